"""A channel that prints instead of sending, and reports the statuses it is told to.

Configuration (``[channels.<name>] type = "console"``):

- ``means`` (required): the means it serves (``call``, ``sms``, ``email``...);
- ``output``: ``"-"`` prints to standard output (default), ``"none"`` prints nothing,
  anything else is a file (relative to the data folder) each message is appended to;
- ``statuses``: what every send reports, in order (default: the means' usual path to
  *reached*); the first is the status the send returns, the others are reported through
  the sink, ``delay`` seconds apart on the engine's clock;
- ``outcomes``: a list of ``{ match = "+3361*", statuses = [...] }`` or
  ``{ match = "*@bad.example", result = "permanent" | "temporary", reason = "...",
  retry_after = 60, status = "not sent" }`` tables, the first whose glob pattern
  matches the address wins; ``dtmf = "1"`` makes a call press that digit after answering;
- ``concurrency``, ``rate``, ``per``, ``burst``: the limits it declares.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import itertools
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from attrs import frozen

from tocsin.channel import (
    Accepted,
    Capabilities,
    ChannelSettings,
    Health,
    Limits,
    OutboundAttempt,
    PermanentFailure,
    SendResult,
    StatusSink,
    TemporaryFailure,
)
from tocsin.clock import Clock
from tocsin.errors import ConfigError
from tocsin.model import InboundMessage, StatusEvent

DEFAULT_STATUSES: Mapping[str, tuple[str, ...]] = {
    "call": ("queued", "started", "ringing", "in progress", "completed"),
    "sms": ("accepted", "queued", "sending", "sent", "received"),
    "email": ("sent", "received"),
}
RESULTS = ("accepted", "temporary", "permanent")


@frozen
class Outcome:
    """What happens to a send whose address matches ``match``."""

    match: str
    result: str = "accepted"
    statuses: tuple[str, ...] = ()
    reason: str = ""
    retry_after: float | None = None
    status: str | None = None
    dtmf: str = ""


def _outcome(raw: Any, where: str, default_statuses: tuple[str, ...]) -> Outcome:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table with at least `match`")
    known = {"match", "result", "statuses", "reason", "retry_after", "status", "dtmf"}
    if unknown := set(raw) - known:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(known)}")
    result = str(raw.get("result", "accepted"))
    if result not in RESULTS:
        raise ConfigError(f"{where}.result: {result!r} is not one of {', '.join(RESULTS)}")
    statuses = raw.get("statuses", default_statuses)
    if not isinstance(statuses, Sequence) or isinstance(statuses, str):
        raise ConfigError(f"{where}.statuses: expected a list of statuses")
    if result == "accepted" and not statuses:
        raise ConfigError(f"{where}.statuses: an accepted send needs at least one status")
    retry_after = raw.get("retry_after")
    return Outcome(
        match=str(raw.get("match", "*")),
        result=result,
        statuses=tuple(str(s) for s in statuses),
        reason=str(raw.get("reason", "simulated failure" if result != "accepted" else "")),
        retry_after=float(retry_after) if retry_after is not None else None,
        status=str(raw["status"]) if raw.get("status") else None,
        dtmf=str(raw.get("dtmf", "")),
    )


def _number(options: Mapping[str, Any], key: str, default: Any, where: str, *, kind: type = float) -> Any:
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}.{key}: expected a positive number, got {value!r}")
    return kind(value)


class ConsoleChannel:
    """Prints messages; reports the statuses its configuration says."""

    capabilities = Capabilities(delivery_reports=True, dtmf_confirmation=True, inbound=True)

    def __init__(
        self,
        name: str,
        means: str,
        *,
        clock: Clock,
        outcomes: Sequence[Outcome],
        default: Outcome,
        delay: float,
        output: str | Path | None,
        limits: Limits,
    ) -> None:
        self.name = name
        self.means = means
        self.clock = clock
        self.outcomes = tuple(outcomes)
        self.default = default
        self.delay = delay
        self.output = output
        self.limits = limits
        self.sent = 0
        self._refs = itertools.count(1)
        self._sink: StatusSink | None = None
        self._stream: TextIO | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, sink: StatusSink) -> None:
        self._sink = sink
        if self.output == "-":
            self._stream = sys.stdout
        elif isinstance(self.output, Path):
            self.output.parent.mkdir(parents=True, exist_ok=True)
            self._stream = self.output.open("a", encoding="utf-8")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._stream is not None and self._stream is not sys.stdout:
            self._stream.close()
        self._stream = None
        self._sink = None

    def health(self) -> Health:
        return Health(data={"sent": self.sent})

    def _match(self, address: str) -> Outcome:
        for outcome in self.outcomes:
            if fnmatch.fnmatchcase(address, outcome.match):
                return outcome
        return self.default

    def _print(self, outbound: OutboundAttempt) -> None:
        if self._stream is None:
            return
        m = outbound.message
        a = outbound.attempt
        body = " | ".join(p for p in (m.subject, m.text or m.html or m.audio_url) if p)
        self._stream.write(f"[{self.name}] {self.means} #{a.id} to {a.address}: {body}\n")
        self._stream.flush()

    async def send(self, outbound: OutboundAttempt) -> SendResult:
        if self._sink is None:
            return TemporaryFailure("the console channel is not started")
        outcome = self._match(outbound.attempt.address)
        if outcome.result == "temporary":
            return TemporaryFailure(outcome.reason, retry_after=outcome.retry_after)
        if outcome.result == "permanent":
            return PermanentFailure(outcome.reason, status=outcome.status)
        self._print(outbound)
        self.sent += 1
        ref = f"{self.name}-{next(self._refs)}"
        first, rest = outcome.statuses[0], outcome.statuses[1:]
        if self.delay > 0:
            task = asyncio.create_task(self._report_later(outbound, rest, outcome.dtmf))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:  # like a provider's callbacks: after the send has returned
            asyncio.get_running_loop().call_soon(self._report, outbound, rest, outcome.dtmf)
        return Accepted(provider_ref=ref, status=first)

    def _report(self, outbound: OutboundAttempt, statuses: Sequence[str], dtmf: str) -> None:
        assert self._sink is not None
        aid = outbound.attempt.id
        for status in statuses:
            event = StatusEvent(status=status, at=self.clock.now(), attempt_id=aid, source=self.name)
            self._sink.report(event)
        if dtmf:
            self._sink.inbound(
                InboundMessage(
                    means=self.means, sender=outbound.attempt.address, text=dtmf, at=self.clock.now(),
                    channel=self.name, attempt_id=aid,
                )
            )

    async def _report_later(self, outbound: OutboundAttempt, statuses: Sequence[str], dtmf: str) -> None:
        for status in statuses:
            await self.clock.sleep(self.delay)
            self._report(outbound, (status,), "")
        if dtmf:
            await self.clock.sleep(self.delay)
            self._report(outbound, (), dtmf)


KNOWN = {"means", "output", "statuses", "outcomes", "delay", "concurrency", "rate", "per", "burst"}


def build(settings: ChannelSettings) -> ConsoleChannel:
    """Build a console channel from its section; a bad key is refused by name."""
    where = f"channels.{settings.name}"
    options = settings.options
    if unknown := set(options) - KNOWN:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(KNOWN)}")
    means = options.get("means")
    if not isinstance(means, str) or not means:
        raise ConfigError(f"{where}.means: say which means this console channel serves (call, sms, email...)")
    default_statuses = tuple(options.get("statuses", DEFAULT_STATUSES.get(means, ())))
    if not default_statuses:
        raise ConfigError(f"{where}.statuses: give the statuses to report for means {means!r}")
    raw_outcomes = options.get("outcomes", [])
    if not isinstance(raw_outcomes, list):
        raise ConfigError(f"{where}.outcomes: expected a list of tables")
    outcomes = [_outcome(o, f"{where}.outcomes[{i}]", default_statuses) for i, o in enumerate(raw_outcomes)]
    output_raw = str(options.get("output", "-"))
    output: str | Path | None
    if output_raw in ("none", ""):
        output = None
    elif output_raw == "-":
        output = "-"
    else:
        path = Path(output_raw).expanduser()
        output = path if path.is_absolute() else settings.data_dir / path
    delay = options.get("delay", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        raise ConfigError(f"{where}.delay: expected seconds (0 or more), got {delay!r}")
    limits = Limits(
        rate=_number(options, "rate", None, where),
        per=_number(options, "per", 1.0, where),
        concurrency=_number(options, "concurrency", 10, where, kind=int),
        burst=_number(options, "burst", 1, where, kind=int),
    )
    return ConsoleChannel(
        settings.name,
        means,
        clock=settings.clock,
        outcomes=outcomes,
        default=Outcome(match="*", statuses=default_statuses),
        delay=float(delay),
        output=output,
        limits=limits,
    )
