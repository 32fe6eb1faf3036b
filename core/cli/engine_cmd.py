"""``tocsin engine run``: the long-running engine of a deployment."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click

from tocsin.app import Tocsin
from tocsin.cli.state import CliState, pass_state
from tocsin.errors import TocsinError


@click.group("engine")
def command() -> None:
    """Run the engine that sends alerts and applies statuses."""


@command.command("run")
@click.option(
    "--node", help="A stable name for this engine (it takes its own unfinished work back on restart)."
)
@click.option(
    "--for", "seconds", type=float, default=None, help="Stop after this many seconds (tests, demos)."
)
@pass_state
def run(state: CliState, node: str | None, seconds: float | None) -> None:
    """Send due attempts, apply statuses, run reminders until stopped (Ctrl-C or SIGTERM).

    Several engines may run on one PostgreSQL database: work is claimed with leases."""

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        options = {"node": node} if node else {}
        async with Tocsin(state.config, engine=options) as app:
            channels = ", ".join(f"{n} ({c.means})" for n, c in app.engine.channels.items()) or "none"
            state.err.print(f"engine {app.engine.settings.node} running; channels: {channels}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)
            state.err.print("stopping: sends in flight finish, queued statuses are applied")
        state.err.print("engine stopped")

    try:
        asyncio.run(go())
    except TocsinError as exc:
        raise click.ClickException(str(exc)) from None
