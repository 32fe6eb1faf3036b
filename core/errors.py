"""Typed errors: every failure Tocsin reports names what is wrong."""

from __future__ import annotations

from collections.abc import Sequence

import attrs


class TocsinError(Exception):
    """Base of every error Tocsin raises on purpose."""


class ConfigError(TocsinError):
    """The configuration is invalid; the message names the key."""


class PluginError(TocsinError):
    """A plugin could not be loaded, or it conflicts with another one."""


class ValidationError(TocsinError):
    """Input was refused; nothing was changed."""


class NotFoundError(TocsinError):
    """A named object (contact, group, alert, ...) does not exist."""


class IllegalTransition(TocsinError):
    """A status change that the means' status machine does not allow."""


@attrs.frozen
class CellError:
    """One problem in an imported file, located as a spreadsheet shows it."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        return f"{where}: {self.message}"


class ImportRefused(ValidationError):
    """A file import was refused as a whole; ``errors`` lists every bad cell."""

    def __init__(self, errors: Sequence[CellError], *, total_rows: int = 0) -> None:
        self.errors = tuple(errors)
        self.total_rows = total_rows
        shown = "\n".join(f"  {e}" for e in self.errors[:50])
        more = len(self.errors) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"import refused, nothing was imported: {len(self.errors)} error(s)\n{shown}{tail}"
        )
