"""Typed errors of the hardware layer: each names the modem and what went wrong."""

from __future__ import annotations

from tocsin.errors import TocsinError


class HalError(TocsinError):
    """Base of every error the hardware layer raises on purpose."""


class ModemGone(HalError):
    """The serial device disappeared (unplugged, closed, I/O error)."""


class AtTimeout(HalError):
    """A command got no final result in time."""


class AtError(HalError):
    """A command ended in ``ERROR``, ``+CME ERROR`` or ``+CMS ERROR``.

    ``kind`` is ``"ERROR"``, ``"CME"`` or ``"CMS"``; ``code`` the numeric code (``None``
    for a plain ``ERROR`` or a textual error); ``meaning`` its 3GPP description.
    """

    def __init__(self, command: str, kind: str, code: int | None, meaning: str) -> None:
        self.command = command
        self.kind = kind
        self.code = code
        self.meaning = meaning
        label = "ERROR" if kind == "ERROR" else f"+{kind} ERROR: {code}"
        super().__init__(f"{command!r} failed with {label} ({meaning})")


class CapabilityError(HalError):
    """The modem (its profile) cannot do what was asked: refused before any attempt."""


class SimError(HalError):
    """The SIM needs a PIN that was not configured, or refused the one given."""
