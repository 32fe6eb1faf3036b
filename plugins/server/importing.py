"""Starting a contacts import (API and dashboard): checked at once, run as an operation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tocsin.contacts_import import import_contacts
from tocsin.errors import ValidationError
from tocsin.plugins.server.context import ServerContext
from tocsin.plugins.server.operations import Operation, Progress

SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")


def parse_mapping(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        value: Any = json.loads(raw)
    except ValueError:
        raise ValidationError("mapping: not valid JSON") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationError('mapping: expected a JSON object of strings, {"header": "field"}')
    return value


def prepare_import(
    ctx: ServerContext, user_id: int, filename: str, content: bytes, *,
    group: str | None = None, region: str | None = None, mapping: str | None = None,
    unmapped: str = "attribute", sheet: str | None = None,
) -> tuple[Operation, Callable[[Progress], dict[str, Any]]]:
    """Check what can be checked now, keep the file, and return the operation and its work
    (start it with ``ctx.operations.start`` on the event loop)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError(f"file: {filename!r} is not a .csv or .xlsx file")
    if unmapped not in ("attribute", "ignore", "error"):
        raise ValidationError("unmapped: attribute, ignore or error")
    columns = parse_mapping(mapping)
    region = (region or ctx.runtime.config.core.default_region).upper()
    group = group or None
    if group is not None:
        ctx.store.groups.get(group)
    op = ctx.operations.create("contacts-import", user_id)
    folder = Path(ctx.runtime.config.core.data_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{op.id}{suffix}"
    path.write_bytes(content)

    def work(progress: Progress) -> dict[str, Any]:
        try:
            result = import_contacts(
                ctx.store, path, region=region, mapping=columns, unmapped=unmapped, group=group,
                sheet=sheet or None,
                progress=lambda phase, done, total: progress(done, total, phase),
            )
        finally:
            path.unlink(missing_ok=True)
        return {"rows": result.rows, "created": result.created, "updated": result.updated,
                "empty_rows": result.empty_rows, "group": result.group, "done": result.rows}

    return op, work
