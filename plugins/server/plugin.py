"""The server plugin's hook implementations (registered through the ``tocsin`` entry points)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tocsin.config import Config
from tocsin.hookspecs import hookimpl
from tocsin.model import Alert, AttemptChange
from tocsin.runtime import Runtime

if TYPE_CHECKING:
    from tocsin.plugins.server.webhooks import Webhooks


@hookimpl
def tocsin_cli_commands() -> Sequence[Any]:
    from tocsin.plugins.server.cli import serve, users

    return [serve, users]


@hookimpl
def tocsin_configure(config: Config) -> None:
    from tocsin.plugins.server.settings import check_section

    check_section(config)


def _webhooks(runtime: Runtime) -> Webhooks:
    """The server's webhooks when it runs in this process (so its worker wakes), else new."""
    from tocsin.plugins.server.webhooks import Webhooks

    found = runtime.services.get("server.webhooks")
    return found if isinstance(found, Webhooks) else Webhooks(runtime.store.engine, runtime.clock)


@hookimpl
def tocsin_attempts_changed(runtime: Runtime, changes: Sequence[AttemptChange]) -> None:
    """Queue ``attempt.status`` deliveries for the integrators subscribed to them."""
    from tocsin.plugins.server.webhooks import change_payloads

    if changes:
        _webhooks(runtime).enqueue("attempt.status", change_payloads(changes))


@hookimpl
def tocsin_alert_sent(runtime: Runtime, alert: Alert) -> None:
    from tocsin.plugins.server.webhooks import alert_payload

    _webhooks(runtime).enqueue("alert.sent", [alert_payload(alert)])


@hookimpl
def tocsin_alert_finished(runtime: Runtime, alert: Alert) -> None:
    from tocsin.plugins.server.webhooks import alert_payload

    _webhooks(runtime).enqueue("alert.finished", [alert_payload(alert)])
