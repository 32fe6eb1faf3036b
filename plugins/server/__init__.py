"""The reference server: REST API, provider webhooks, web dashboard, users and rights.

A plugin like any other: :mod:`tocsin.plugins.server.plugin` registers its command
(``tocsin serve``) and its observers; :func:`create_app` builds the ASGI application,
standalone or to mount in a host application.
"""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    """See :func:`tocsin.plugins.server.app.create_app`."""
    from tocsin.plugins.server.app import create_app as factory

    return factory(*args, **kwargs)


__all__ = ["create_app"]
