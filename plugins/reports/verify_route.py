"""The link of a verification e-mail: ``GET /verify/<token>`` on the reference server.

Public (the token is the check): a live token marks its means verified and says so; an
unknown or expired one gets a page saying what to do, with 404 or 410.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from tocsin.plugins.reports.verify import confirm_token

PUBLIC = {"tocsin_right": "public"}

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"""


def verify_route(runtime: Any) -> Any:
    """The Litestar handler confirming a verification link."""

    @get("/verify/{token:str}", opt=dict(PUBLIC), include_in_schema=False, sync_to_thread=True,
         name="reports-verify-link")
    def verify_link(token: FromPath[str]) -> Response[str]:
        result = confirm_token(runtime.store, token, now=runtime.clock.now())
        if result.verified:
            page = PAGE.format(title="Address confirmed",
                               text="Thank you: this address will receive alerts.")
            return Response(page, media_type="text/html", status_code=200)
        status = 404 if result.reason.startswith("unknown") else 410
        page = PAGE.format(title="Link not valid", text=escape(result.reason))
        return Response(page, media_type="text/html", status_code=status)

    return verify_link
