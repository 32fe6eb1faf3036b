"""``tocsin simulate``: run a provider simulator on loopback to try a deployment
without an account (``twilio``: the Twilio-compatible API; ``gateway``: a Kannel /
Jasmin / playSMS-like HTTP SMS gateway)."""

from __future__ import annotations

import asyncio
import contextlib
import tomllib
from pathlib import Path
from typing import Any

import click


def _book(path: str | None, demo: bool = False) -> Any:
    from tocsin.testing.twilio_scenarios import ScenarioBook, demo_book, parse_book

    if demo and path:
        raise click.BadParameter("give --scenarios or --demo, not both", param_hint="--demo")
    if demo:
        return demo_book()
    if not path:
        return ScenarioBook()
    try:
        return parse_book(tomllib.loads(Path(path).read_text()))
    except (OSError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="--scenarios") from None


async def _forever(manager: Any, banner: Any) -> None:
    async with manager as started:
        banner(started)
        await asyncio.Event().wait()


def _run(manager: Any, banner: Any) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_forever(manager, banner))


@click.group()
def simulate() -> None:
    """Run a provider simulator on 127.0.0.1 (Ctrl-C stops it)."""


@simulate.command("twilio")
@click.option("--port", default=8011, show_default=True, help="TCP port on 127.0.0.1.")
@click.option("--scenarios", type=click.Path(exists=True, dir_okay=False),
              help="TOML file: [sms] and [call] tables of \"number pattern\" = \"scenario\".")
@click.option("--time-scale", default=1.0, show_default=True,
              help="Multiplies realistic delays (0.01: a hundred times faster).")
@click.option("--rate-limit", type=float, default=None, help="Creates per second before 429.")
@click.option("--no-callbacks", is_flag=True, help="Post no status callbacks (benchmarks).")
@click.option("--quiet", is_flag=True, help="Print only the banner, not every message and call.")
@click.option("--demo", is_flag=True, help="The demo scenarios: the number's last digit picks the outcome.")
def twilio(port: int, scenarios: str | None, time_scale: float, rate_limit: float | None,
           no_callbacks: bool, quiet: bool, demo: bool) -> None:
    """A Twilio-compatible API (Messages, Calls, signed callbacks, TwiML calls)."""
    from tocsin.testing.twilio_simulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioSimulator

    sim = TwilioSimulator(
        scenarios=_book(scenarios, demo), time_scale=time_scale, port=port, rate_limit=rate_limit,
        callbacks_enabled=not no_callbacks, log=None if quiet else click.echo,
    )

    def banner(started: Any) -> None:
        click.echo(f"Twilio simulator on {started.base_url}")
        click.echo(f"  account_sid = \"{DEFAULT_ACCOUNT_SID}\"")
        click.echo(f"  auth_token  = \"{DEFAULT_AUTH_TOKEN}\"  (simulator only)", nl=True)

    _run(sim, banner)


@simulate.command("gateway")
@click.option("--port", default=13013, show_default=True, help="TCP port on 127.0.0.1.")
@click.option("--scenarios", type=click.Path(exists=True, dir_okay=False),
              help="TOML file: an [sms] table of \"number pattern\" = \"scenario\".")
@click.option("--time-scale", default=1.0, show_default=True, help="Multiplies realistic delays.")
@click.option("--demo", is_flag=True, help="The demo scenarios: the number's last digit picks the outcome.")
def gateway(port: int, scenarios: str | None, time_scale: float, demo: bool) -> None:
    """An HTTP SMS gateway speaking Kannel's, Jasmin's and playSMS's send APIs."""
    from tocsin.testing.gateway_simulator import GatewaySimulator

    sim = GatewaySimulator(scenarios=_book(scenarios, demo), time_scale=time_scale, port=port,
                           log=click.echo)

    def banner(started: Any) -> None:
        click.echo(f"SMS gateway simulator on {started.base_url}")
        click.echo(f"  Kannel:  {started.base_url}/cgi-bin/sendsms  (user tocsin / password tocsin)")
        click.echo(f"  Jasmin:  {started.base_url}/send")
        click.echo(f"  playSMS: {started.base_url}/index.php")

    _run(sim, banner)
