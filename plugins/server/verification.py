"""Resending a verification (a code or a link) to one of a contact's means, through the
report plugin's verification and the engine's channels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tocsin.errors import NotFoundError, ValidationError
from tocsin.plugins.server.context import ServerContext
from tocsin.store.schema import contact_means


def means_ids(ctx: ServerContext, contact_ids: list[int]) -> dict[tuple[int, str, str], int]:
    """``(contact id, kind, value) -> means id`` for the contacts shown on a page."""
    if not contact_ids:
        return {}
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(select(contact_means.c.id, contact_means.c.contact_id,
                                   contact_means.c.kind, contact_means.c.value)
                            .where(contact_means.c.contact_id.in_(contact_ids)))
        return {(r.contact_id, r.kind, r.value): r.id for r in rows}


def check_owner(ctx: ServerContext, contact_id: int, means_id: int) -> None:
    with ctx.store.engine.connect() as conn:
        owner = conn.execute(select(contact_means.c.contact_id)
                             .where(contact_means.c.id == means_id)).scalar_one_or_none()
    if owner is None or owner != contact_id:
        raise NotFoundError(f"contact {contact_id} has no means with id {means_id}")


async def resend(ctx: ServerContext, contact_id: int, means_id: int, via: str | None) -> Any:
    import anyio.to_thread

    try:
        from tocsin.plugins.reports.verification import resend_verification
    except ImportError:
        raise ValidationError("the reports plugin (verification) is not installed") from None
    await anyio.to_thread.run_sync(check_owner, ctx, contact_id, means_id)
    return await resend_verification(ctx.runtime, means_id, via=via)
