"""The application factory: the reference server as one Litestar ASGI application.

``create_app(runtime)`` gathers the API, the dashboard and the routes other plugins add
through ``tocsin_server_routes``; every route passes the guard of
:mod:`tocsin.plugins.server.auth`. The result runs under uvicorn (``tocsin serve``) or is
mounted in a host ASGI application (see ``docs/server.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Response
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from tocsin.errors import TocsinError
from tocsin.plugins.server import errors
from tocsin.plugins.server.api import (
    alerts,
    campaigns,
    contacts,
    groups,
    operations,
    reports,
    system,
    users,
    webhooks,
)
from tocsin.plugins.server.auth import guard, provide_context, provide_principal
from tocsin.plugins.server.context import ServerContext
from tocsin.plugins.server.hosting import engine_running
from tocsin.plugins.server.rights import Right, need
from tocsin.plugins.server.settings import ServerSettings, server_settings
from tocsin.runtime import Runtime

STATIC = Path(__file__).parent / "static"


def _flatten(results: Iterable[Sequence[Any] | None]) -> list[Any]:
    return [route for result in results for route in (result or ())]


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'",
}


async def security_headers(response: Response[Any]) -> Response[Any]:
    """No framing (the recontact button must not be clickjacked), no MIME sniffing."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def core_routes() -> list[Any]:
    """The server's own routers: the API and the dashboard."""
    from tocsin.plugins.server.web import pages

    return [
        contacts.router,
        alerts.alerts_router,
        alerts.attempts_router,
        campaigns.router,
        groups.router,
        users.me_router,
        users.users_router,
        system.router,
        operations.router,
        webhooks.router,
        reports.router,
        *pages.routers(),
        create_static_files_router("/static", [STATIC], opt=need(Right.PUBLIC),
                                   include_in_schema=False),
    ]


def create_app(
    runtime: Runtime,
    settings: ServerSettings | None = None,
    *,
    debug: bool = False,
    lifespan: Sequence[Any] = (),
    start_engine: bool = False,
    dispatch: bool = True,
    engine_options: Mapping[str, Any] | None = None,
) -> Litestar:
    """The server for ``runtime``; ``settings`` default to the ``[server]`` section.

    With ``start_engine``, the server runs an engine on ``runtime`` for its lifetime
    (``dispatch=False``: it only creates alerts and applies webhooks; senders run
    elsewhere). Without it, the alert operations use the engine a host application put in
    ``runtime.services["engine"]``.
    """
    settings = settings or server_settings(runtime.config)
    ctx = ServerContext(runtime, settings)
    plugin_routes = _flatten(runtime.pm.hook.tocsin_server_routes(runtime=runtime))

    @asynccontextmanager
    async def server_lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime.services["server.webhooks"] = ctx.webhooks
        worker = asyncio.create_task(
            ctx.webhooks.run(max_tries=settings.webhook_max_tries, timeout=settings.webhook_timeout)
        )
        try:
            if start_engine:
                async with engine_running(runtime, dispatch=dispatch, options=engine_options):
                    yield
            else:
                yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            runtime.services.pop("server.webhooks", None)
            await ctx.operations.wait_all()

    return Litestar(
        route_handlers=[*core_routes(), *plugin_routes],
        guards=[guard],
        after_request=security_headers,
        dependencies={
            "ctx": Provide(provide_context),
            "principal": Provide(provide_principal),
        },
        exception_handlers={
            TocsinError: errors.tocsin_error,
            HTTPException: errors.http_error,
            OverflowError: errors.number_out_of_range,
        },
        state=State({"tocsin": ctx}),
        openapi_config=OpenAPIConfig(
            title="Tocsin",
            version="1",
            description="Multichannel alerting: contacts, groups, alerts, attempts, reports.",
            path="/api/schema",
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
            components=Components(
                security_schemes={
                    "token": SecurityScheme(type="http", scheme="bearer",
                                            description="An API token (tcs_...)"),
                }
            ),
            security=[{"token": []}],
            use_handler_docstrings=True,
        ),
        lifespan=[server_lifespan, *lifespan],
        logging_config=LoggingConfig(
            log_exceptions="always",
            disable_stack_trace={400, 401, 403, 404, 405, 409, 429, 503, TocsinError},
        ),
        debug=debug,
    )
