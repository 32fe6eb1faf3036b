"""Incremental splitting of a modem's byte stream into lines and ``> `` prompts.

Pure and synchronous so it can be tested byte by byte: any line ending (``\\r``,
``\\n``, ``\\r\\n``, ``\\n\\r``), empty lines dropped, the Ctrl-Z that ends an SMS body
removed, and the ``> `` prompt of ``AT+CMGS`` (which has no line ending) reported as
soon as it is complete. Lines starting with ``>`` never occur in AT responses, so a
pending ``>`` is always a prompt, and so is a ``>`` at the start of a line that other
output completed (a URC written right after the prompt, or the echo of the body).
"""

from __future__ import annotations

import enum

_ENDINGS = b"\r\n"
CTRL_Z = "\x1a"


class Token(enum.Enum):
    """Non-text tokens of the stream."""

    PROMPT = "> "


def _split_at_ending(buffer: bytearray) -> int:
    """Index of the first line ending in ``buffer``, or -1."""
    positions = [i for i in (buffer.find(b"\r"), buffer.find(b"\n")) if i >= 0]
    return min(positions) if positions else -1


class LineReader:
    """Feed bytes in, get complete lines (``str``) and :data:`Token.PROMPT` out."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[str | Token]:
        self._buffer += data
        out: list[str | Token] = []
        while (end := _split_at_ending(self._buffer)) >= 0:
            raw = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            text = raw.decode("utf-8", errors="replace").replace(CTRL_Z, "").strip()
            if text.startswith(">"):
                # a prompt whose line was completed by what followed it (a URC, an echo)
                out.append(Token.PROMPT)
                text = text[1:].strip()
            if text:
                out.append(text)
        if self._buffer.strip(b" ") == b">":
            self._buffer.clear()
            out.append(Token.PROMPT)
        return out

    @property
    def pending(self) -> bytes:
        """Bytes received after the last complete line (for diagnostics)."""
        return bytes(self._buffer)
