"""Joining the parts of a concatenated SMS, in whatever order they arrive."""

from __future__ import annotations

from tocsin.hal.pdu import Deliver, join_units


class Reassembler:
    """Collect parts by (sender, reference, count); hand back the text when complete."""

    def __init__(self) -> None:
        self._parts: dict[tuple[str, int, int], dict[int, str]] = {}

    def add(self, message: Deliver) -> str | None:
        """The whole text once every part of ``message``'s SMS is in, else ``None``.

        A single-part message is returned at once; a part received twice counts once.
        """
        concat = message.concat
        if concat is None or concat.parts <= 1:
            return message.text
        key = (message.sender, concat.reference, concat.parts)
        parts = self._parts.setdefault(key, {})
        parts[concat.number] = message.units
        if len(parts) < concat.parts or any(n not in parts for n in range(1, concat.parts + 1)):
            return None
        del self._parts[key]
        return join_units("".join(parts[n] for n in range(1, concat.parts + 1)))

    @property
    def incomplete(self) -> int:
        """How many messages are waiting for parts."""
        return len(self._parts)
