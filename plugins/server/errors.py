"""How errors become answers: JSON for the API, a page or a redirect for the dashboard."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.status_codes import (
    HTTP_303_SEE_OTHER,
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
)

from tocsin.errors import IllegalTransition, ImportRefused, NotFoundError, TocsinError


def is_api(request: Request[Any, Any, Any]) -> bool:
    path = request.scope.get("path", "").removeprefix(request.scope.get("root_path", ""))
    return path.startswith("/api") or "text/html" not in request.headers.get("accept", "")


def tocsin_error(request: Request[Any, Any, Any], exc: TocsinError) -> Response[Any]:
    """A typed Tocsin error: 404 for a missing object, 409 for a refused change, else 400."""
    status = HTTP_400_BAD_REQUEST
    if isinstance(exc, NotFoundError):
        status = HTTP_404_NOT_FOUND
    elif isinstance(exc, IllegalTransition):
        status = HTTP_409_CONFLICT
    body: dict[str, Any] = {"status_code": status, "detail": str(exc)}
    if isinstance(exc, ImportRefused):
        body["errors"] = [{"row": e.row, "column": e.column, "message": e.message} for e in exc.errors]
    if not is_api(request):
        from tocsin.plugins.server.web.render import error_page

        return error_page(request, status, str(exc))
    return Response(body, status_code=status)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's HTTP errors; an anonymous browser is sent to the login page."""
    if isinstance(exc, NotAuthorizedException) and not is_api(request):
        root = request.scope.get("root_path", "")
        path = request.scope.get("path", "/").removeprefix(root) or "/"
        target = quote(path + (f"?{request.url.query}" if request.url.query else ""))
        return Response(
            "", status_code=HTTP_303_SEE_OTHER, headers={"location": f"{root}/login?next={target}"}
        )
    if not is_api(request):
        from tocsin.plugins.server.web.render import error_page

        return error_page(request, exc.status_code, exc.detail)
    body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.detail}
    if exc.extra:
        body["extra"] = exc.extra
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def number_out_of_range(request: Request[Any, Any, Any], exc: OverflowError) -> Response[Any]:
    """A number too large for the database (ids are 64-bit at most): the client's mistake."""
    return tocsin_error(request, TocsinError(f"a number in the request is out of range ({exc})"))
