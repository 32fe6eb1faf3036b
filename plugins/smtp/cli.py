"""``tocsin mail check|read-bounce|demo-server``: the e-mail channel from the command line.

- ``check`` connects to every server of an ``smtp`` channel (TLS, certificate, login),
  says which answer, and with ``--to`` sends one test e-mail;
- ``read-bounce`` runs a saved bounce or complaint through the channel's parser and says
  which attempt it names and what it means;
- ``demo-server`` runs the demo mail server (see :mod:`.demo`) until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from tocsin.channel import (
    Accepted,
    ChannelSettings,
    OutboundAttempt,
    PermanentFailure,
    RenderedMessage,
    TemporaryFailure,
)
from tocsin.cli.state import CliState
from tocsin.errors import ConfigError
from tocsin.model import Attempt, InboundMessage, StatusEvent

TEST_ATTEMPT_ID = 0
"""Test e-mails name attempt 0, which the store never gives out: their bounces match nothing."""


class _Collect:
    def __init__(self) -> None:
        self.events: list[StatusEvent] = []

    def report(self, event: StatusEvent) -> None:
        self.events.append(event)

    def inbound(self, message: InboundMessage) -> None:
        pass


def _smtp_section(state: CliState, name: str | None) -> tuple[str, Mapping[str, Any]]:
    found = {n: s for n, s in state.config.channels.items() if s.get("type") == "smtp"}
    if name is None:
        if len(found) != 1:
            names = ", ".join(sorted(found)) or "none"
            raise click.UsageError(f"name the smtp channel to use (configured: {names})")
        name = next(iter(found))
    if name not in found:
        raise click.UsageError(f"no smtp channel named {name!r} (configured: "
                               f"{', '.join(sorted(found)) or 'none'})")
    return name, found[name]


@click.group("mail")
def command() -> None:
    """E-mail over SMTP: check a channel, read a bounce, run the demo mail server."""


@command.command("check")
@click.argument("channel", required=False)
@click.option("--to", "to", metavar="ADDRESS", help="Also send a test e-mail to this address.")
@click.pass_context
def check(ctx: click.Context, channel: str | None, to: str | None) -> None:
    """Connect to every server of CHANNEL and say which answer (and send a test e-mail)."""
    from tocsin.plugins.smtp.channel import build_channel

    state = ctx.ensure_object(CliState)
    name, section = _smtp_section(state, channel)
    options = {k: v for k, v in section.items() if k not in ("bounce_smtp", "bounce_imap")}
    try:
        smtp = build_channel(ChannelSettings(name, "smtp", options, hooks=state.pm.hook,
                                             base_url=state.config.core.base_url))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None

    async def work() -> Any:
        await smtp.start(_Collect())
        try:
            result = None
            if to:
                result = await smtp.send(OutboundAttempt(
                    attempt=Attempt(alert_id=None, contact_id=0, means="email", address=to,
                                    status="", id=TEST_ATTEMPT_ID, channel=name),
                    message=RenderedMessage(text="Tocsin: this is a test e-mail.",
                                            subject="Tocsin test e-mail"),
                    alert_title="Tocsin test e-mail",
                ))
            return result
        finally:
            await smtp.stop()

    try:
        result = asyncio.run(work())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    health = smtp.health()
    for label, data in health.data.items():
        mark = "up" if data["up"] else f"DOWN ({data['last_error']})"
        click.echo(f"{label}: {mark}")
    if isinstance(result, Accepted):
        click.echo(f"test e-mail to {to}: sent ({result.provider_ref})")
    elif isinstance(result, PermanentFailure | TemporaryFailure):
        status = getattr(result, "status", None) or "temporary failure"
        click.echo(f"test e-mail to {to}: {status}: {result.reason}")
    if health.state != "ok" or (to and not isinstance(result, Accepted)):
        ctx.exit(1)


@command.command("read-bounce")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--channel", "channel", help="The smtp channel whose tokens to check.")
@click.pass_context
def read_bounce(ctx: click.Context, path: Path, channel: str | None) -> None:
    """Say what the returned message in PATH means and which attempt it names."""
    from tocsin.plugins.smtp.bounces import parse_bounce
    from tocsin.plugins.smtp.settings import parse_settings

    state = ctx.ensure_object(CliState)
    name, section = _smtp_section(state, channel)
    try:
        secret = parse_settings(name, section).token_secret
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    bounce = parse_bounce(path.read_bytes(), secret)
    if bounce is None:
        click.echo("names no attempt of this channel, or changes nothing (not a bounce, "
                   "a delay notice, a forged or foreign token)")
        return
    click.echo(f"attempt {bounce.attempt_id}: {bounce.status} ({bounce.kind}"
               + (", permanent" if bounce.hard else "") + ")")
    if bounce.recipient:
        click.echo(f"recipient: {bounce.recipient}")
    click.echo(f"reason: {bounce.reason}")


@command.command("demo-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=int)
@click.option("--bounce-to", "bounce_to", metavar="HOST:PORT",
              help="Where to return reports (the channel's bounce receiver).")
def demo_server(host: str, port: int, bounce_to: str | None) -> None:
    """Run the demo mail server until interrupted (addresses bounce by local part)."""
    from tocsin.plugins.smtp.demo import start_demo_mail

    target = None
    if bounce_to:
        target_host, _, target_port = bounce_to.rpartition(":")
        if not target_host or not target_port.isdigit():
            raise click.UsageError("--bounce-to: expected HOST:PORT")
        target = (target_host, int(target_port))

    async def serve() -> None:
        demo = await start_demo_mail(host, port, bounce_to=target)
        click.echo(f"demo mail server on {demo.host}:{demo.port}"
                   + (f", reports to {bounce_to}" if bounce_to else ""))
        try:
            await asyncio.Event().wait()
        finally:
            await demo.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
