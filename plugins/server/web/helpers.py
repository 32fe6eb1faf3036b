"""Small things the pages share: dates in the deployment's zone, query strings, forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from litestar import Request

from tocsin.plugins.server.context import Ctx


def when_formatter(ctx: Ctx) -> Callable[[dt.datetime | None], str]:
    zone = ctx.runtime.config.core.zone

    def when(value: dt.datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    return when


def query_builder(request: Request[Any, Any, Any]) -> Callable[..., str]:
    """``query(offset=50)``: the current query string with some values replaced."""
    current = dict(request.query_params)

    def query(**changes: Any) -> str:
        merged = {**current, **{k: v for k, v in changes.items() if v is not None}}
        return urlencode({k: v for k, v in merged.items() if v not in ("", None)})

    return query


def safe_next(target: str) -> str:
    """A local path to go back to after login, never another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
