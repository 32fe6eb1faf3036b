"""``tocsin modem list|probe|send|call|ussd|emulate``: modems from the command line.

A SIM PIN is never typed on the command line (it would stay in the shell history): name
the environment variable that holds it with ``--pin-env``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from tocsin.hal.errors import HalError
from tocsin.hal.modem import Modem
from tocsin.hal.scenarios import parse_scenario
from tocsin.hal.sms import ReceivedReport, ReceivedSms, SmsReceiver, send_sms
from tocsin.hal.ussd import ussd
from tocsin.hal.virtual_dialects import DIALECTS
from tocsin.hal.virtual_modem import VirtualModem
from tocsin.hal.voice import CallPlan, Progress, place_call

T = TypeVar("T")
GSM_TYPES = ("gsm-sms", "gsm-voice")


def _pin(pin_env: str | None) -> str | None:
    if not pin_env:
        return None
    if pin_env not in os.environ:
        raise click.UsageError(f"--pin-env: environment variable {pin_env} is not set")
    return os.environ[pin_env]


def _run(coro: Awaitable[T]) -> T:
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except HalError as exc:
        raise click.ClickException(str(exc)) from None


async def _with_modem(device: str, pin_env: str | None, profile: str | None,
                      work: Callable[[Modem], Awaitable[T]]) -> T:
    modem = await Modem.open(device, pin=_pin(pin_env), profile=profile)
    try:
        return await work(modem)
    finally:
        await modem.close()


device_arg = click.argument("device")
pin_option = click.option("--pin-env", metavar="VAR", help="Environment variable holding the SIM PIN.")
profile_option = click.option("--profile", type=click.Choice(["simcom", "quectel", "huawei", "generic"]),
                              help="Modem profile (default: detected from the identification).")


@click.group("modem")
def command() -> None:
    """GSM modems: list, probe, send an SMS, place a call, emulate one."""


@command.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Serial ports seen on this machine, and the modems the configuration names."""
    from serial.tools import list_ports

    ports = list(list_ports.comports())
    click.echo("Serial ports:" if ports else "Serial ports: none found")
    for port in ports:
        click.echo(f"  {port.device}  {port.description}  {port.hwid}")
    state = ctx.find_root().obj
    config = getattr(state, "config", None)
    channels = config.channels if config is not None else {}
    gsm = {n: s for n, s in channels.items() if s.get("type") in GSM_TYPES}
    click.echo("Configured modems:" if gsm else "Configured modems: none (no gsm-sms/gsm-voice channel)")
    for name, section in gsm.items():
        devices = section.get("devices") or []
        for device in [devices] if isinstance(devices, str) else devices:
            present = "present" if os.path.exists(device) else "MISSING"
            click.echo(f"  {name} ({section['type']}): {device}  [{present}]")


@command.command("probe")
@device_arg
@pin_option
@profile_option
def probe(device: str, pin_env: str | None, profile: str | None) -> None:
    """Model, capabilities, SIM, operator, signal and registration of DEVICE."""

    async def work(modem: Modem) -> None:
        info = await modem.probe()
        caps = modem.profile.capabilities
        can = [n for n in ("sms", "voice", "tts", "audio", "dtmf", "delivery_reports") if getattr(caps, n)]
        dbm = f" ({info.signal_dbm} dBm)" if info.signal_dbm is not None else ""
        signal_text = f"{info.signal if info.signal is not None else 'unknown'}{dbm}"
        profile_text = f"{modem.profile.name} - {modem.profile.description}"
        for label, value in (
            ("device", info.device), ("manufacturer", info.manufacturer), ("model", info.model),
            ("revision", info.revision), ("profile", profile_text),
            ("capabilities", ", ".join(can)), ("IMEI", info.imei), ("SIM (IMSI)", info.imsi),
            ("operator", info.operator or "-"), ("signal", signal_text),
            ("registration", info.registration),
        ):
            click.echo(f"{label:>13}: {value}")

    _run(_with_modem(device, pin_env, profile, work))


@command.command("send")
@device_arg
@click.argument("number")
@click.argument("text")
@pin_option
@profile_option
@click.option("--wait", "wait", default=0.0, show_default=True,
              help="Seconds to wait for the delivery report(s).")
def send(device: str, number: str, text: str, pin_env: str | None, profile: str | None,
         wait: float) -> None:
    """Send TEXT to NUMBER (E.164) through DEVICE."""

    async def work(modem: Modem) -> None:
        reports: asyncio.Queue[ReceivedReport] = asyncio.Queue()

        def on_event(event: ReceivedSms | ReceivedReport) -> None:
            if isinstance(event, ReceivedReport):
                reports.put_nowait(event)

        receiver = SmsReceiver(modem, on_event)
        sent = await send_sms(modem, number, text)
        click.echo(f"sent in {len(sent.references)} part(s), references {list(sent.references)}")
        wanted = set(sent.references)
        with contextlib.suppress(TimeoutError):
            while wanted and wait > 0:
                event = await asyncio.wait_for(reports.get(), wait)
                if event.report.reference in wanted:
                    wanted.discard(event.report.reference)
                    click.echo(f"part {event.report.reference}: {event.report.delivery.value} "
                               f"(status 0x{event.report.status:02X})")
        receiver.close()

    _run(_with_modem(device, pin_env, profile, work))


@command.command("call")
@device_arg
@click.argument("number")
@click.argument("text")
@pin_option
@profile_option
@click.option("--repeat", default=2, show_default=True, help="Times the text is spoken.")
@click.option("--confirm/--no-confirm", default=False, help="Ask the callee to press 1.")
@click.option("--ring-timeout", default=45.0, show_default=True, help="Seconds to let it ring.")
@click.option("--max-duration", default=300.0, show_default=True, help="Seconds before hanging up.")
def call(device: str, number: str, text: str, pin_env: str | None, profile: str | None,
         repeat: int, confirm: bool, ring_timeout: float, max_duration: float) -> None:
    """Call NUMBER through DEVICE and speak TEXT."""

    async def work(modem: Modem) -> None:
        plan = CallPlan(text=text, repeat=repeat, confirm=confirm, ring_timeout=ring_timeout,
                        max_duration=max_duration)

        def progress(step: Progress) -> None:
            click.echo(step.value)

        result = await place_call(modem, number, plan, progress)
        digits = f", digits {result.digits!r}" if result.digits else ""
        click.echo(f"{result.outcome.value}{digits}{': ' + result.reason if result.reason else ''}")

    _run(_with_modem(device, pin_env, profile, work))


@command.command("ussd")
@device_arg
@click.argument("code")
@pin_option
@profile_option
def ussd_(device: str, code: str, pin_env: str | None, profile: str | None) -> None:
    """Send USSD CODE (e.g. '*100#' for the balance) and print the answer."""

    async def work(modem: Modem) -> None:
        click.echo(await ussd(modem, code))

    _run(_with_modem(device, pin_env, profile, work))


@command.command("emulate")
@click.option("--count", default=1, show_default=True, help="Number of virtual modems.")
@click.option("--dialect", type=click.Choice(sorted(DIALECTS)), default="simcom", show_default=True)
@click.option("--scale", default=1.0, show_default=True,
              help="Multiplier of real-hardware timing (0.1 = ten times faster).")
@click.option("--scenario", "scenarios", multiple=True, metavar="PATTERN=RULES",
              help="e.g. '+33699*=sms:undelivered,call:busy' (repeatable; first match wins).")
@click.option("--pin-env", metavar="VAR", help="Environment variable holding the PIN the SIM asks for.")
@click.option("--link-dir", type=click.Path(file_okay=False), help="Where the port links go.")
def emulate(count: int, dialect: str, scale: float, scenarios: tuple[str, ...],
            pin_env: str | None, link_dir: str | None) -> None:
    """Run virtual modems on pseudo-terminals until interrupted (try a deployment
    without hardware: point a gsm channel's devices at the printed ports)."""
    try:
        rules = [parse_scenario(s) for s in scenarios]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scenario") from None
    if count < 1:
        raise click.BadParameter("at least one modem", param_hint="--count")
    pin = _pin(pin_env)

    async def main() -> None:
        options: dict[str, Any] = {"link_dir": link_dir} if link_dir else {}
        modems = [VirtualModem(dialect=dialect, scenarios=rules, scale=scale, pin=pin,
                               name=f"vmodem{i}", **options) for i in range(count)]
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        for modem in modems:
            click.echo(f"{modem.name}: {await modem.start()} ({dialect}, scale {scale:g})")
        click.echo("Ctrl-C to stop.")
        await stop.wait()
        for modem in modems:
            click.echo(f"{modem.name}: {len(modem.messages)} SMS, {len(modem.calls)} call(s)")
            await modem.stop()

    asyncio.run(main())
