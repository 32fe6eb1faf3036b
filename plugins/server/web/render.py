"""Rendering pages: one Jinja2 environment per language, with the request's context."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.status_codes import HTTP_200_OK

from tocsin.plugins.server.web.i18n import pick_language, translations

TEMPLATES = Path(__file__).parent.parent / "templates"


@functools.cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def request_language(request: Request[Any, Any, Any]) -> str:
    from tocsin.plugins.server.auth import STATE_KEY, context_of

    principal = request.scope.get("state", {}).get(STATE_KEY)
    user_language = str(principal.user.language) if principal is not None else ""
    ctx = context_of(request)
    return pick_language(
        user_language, request.headers.get("accept-language", ""), ctx.settings.default_language
    )


def render(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = HTTP_200_OK,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> Response[str]:
    """``template`` rendered in the request's language, as an HTML response."""
    from tocsin.plugins.server.auth import STATE_KEY

    language = request_language(request)
    root = request.scope.get("root_path", "")
    principal = request.scope.get("state", {}).get(STATE_KEY)
    html = environment(language).get_template(template).render(
        request=request,
        lang=language,
        principal=principal,
        user=principal.user if principal else None,
        csrf_token=principal.session.csrf_token if principal and principal.session else "",
        url=lambda path: f"{root}{path}",
        path=request.url.path.removeprefix(root),
        **values,
    )
    return Response(html, status_code=status_code, media_type="text/html", headers=headers)


def error_page(request: Request[Any, Any, Any], status: int, detail: str) -> Response[str]:
    return render(request, "error.html", status_code=status, status=status, detail=detail)
