"""Content scanning before a message leaves: what scanners see and what they find.

A channel that sends content (an e-mail with its parts and attachments) hands every part
to the ``tocsin_scan_message`` hook before sending; a scanner plugin (ClamAV, a policy
filter) answers with a :class:`ScanFinding` when a part must not be sent. The channel then
refuses the message (an e-mail becomes *rejected*) and never sends it.

A scanner that cannot do its job (daemon down, timeout) raises :class:`ScanError`: the
message is not sent unscanned; the channel reports a temporary failure so it is retried.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from attrs import frozen

from tocsin.errors import TocsinError


@frozen
class ScanPart:
    """One part of an outgoing message as a scanner sees it (decoded bytes)."""

    name: str
    content_type: str
    data: bytes


@frozen
class ScanFinding:
    """Why a part must not be sent: which scanner flagged which part, and its verdict."""

    scanner: str
    part: str
    signature: str

    @property
    def reason(self) -> str:
        """The words recorded as the attempt's reason."""
        return f"{self.scanner} found {self.signature} in {self.part}"


class ScanError(TocsinError):
    """A scanner could not scan (it did not say the content is clean)."""


async def scan_parts(hooks: Any, channel: str, parts: Sequence[ScanPart]) -> ScanFinding | None:
    """Ask every scanner plugin about ``parts``; the first finding, or ``None`` when clean.

    ``hooks`` is the plugin manager's hook relay (``pm.hook``). Implementations may return
    a finding, ``None``, or an awaitable of either; all are awaited, so a failing scanner
    (:class:`ScanError`) is never hidden by another's clean answer.
    """
    results = hooks.tocsin_scan_message(channel=channel, parts=list(parts))
    findings: list[ScanFinding] = []
    for result in results:
        value = await result if inspect.isawaitable(result) else result
        if value is not None:
            findings.append(value)
    return findings[0] if findings else None


async def active_scanners(hooks: Any, channel: str) -> int:
    """How many scanners take part: implementations that answer something other than a
    bare ``None`` (a plugin installed but not configured answers ``None``)."""
    count = 0
    for result in hooks.tocsin_scan_message(channel=channel, parts=[]):
        if inspect.isawaitable(result):
            await result
        count += result is not None
    return count


def has_scanners(hooks: Any) -> bool:
    """Whether any loaded plugin implements ``tocsin_scan_message`` at all."""
    return bool(hooks.tocsin_scan_message.get_hookimpls())


__all__ = ["ScanError", "ScanFinding", "ScanPart", "active_scanners", "has_scanners", "scan_parts"]
