"""Registers a ``push`` means with its status machine, and a ``push-hello`` command."""

from __future__ import annotations

import click

from tocsin import hookimpl
from tocsin.status import StatusMachine

PUSH = StatusMachine(
    means="push",
    states=("queued", "sent", "delivered", "opened", "expired", "failed"),
    initial="queued",
    transitions={"queued": {"sent", "failed"}, "sent": {"delivered", "expired", "failed"}},
    terminal={"delivered", "opened", "expired", "failed"},
    refinements={"delivered": {"opened"}},
    reached={"delivered", "opened"},
    description="A push notification to a mobile application.",
)


@hookimpl
def tocsin_register_status_machines() -> list[StatusMachine]:
    return [PUSH]


@click.command("push-hello")
def push_hello() -> None:
    """Say hello from the example plugin."""
    click.echo("hello from tocsin-example")


@hookimpl
def tocsin_cli_commands() -> list[click.Command]:
    return [push_hello]
