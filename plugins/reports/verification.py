"""The verification report (contacts whose means are unverified, with the state of their
latest challenge) and the resend of a verification SMS, call or e-mail.

The resend issues a challenge (:mod:`tocsin.plugins.reports.verify`), records the
message as an attempt of kind *verification* (no alert), and hands it at once to the
channel the running engine routes that means to (:func:`resend_verification`), through
the channel contract; the channel's later status reports (delivery, bounce) reach that
attempt through the engine's status applier like any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from attrs import field, frozen
from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select

from tocsin.channel import Accepted, Channel, OutboundAttempt, PermanentFailure
from tocsin.errors import ConfigError, NotFoundError, TocsinError, ValidationError
from tocsin.model import Attempt, AttemptKind
from tocsin.plugins.reports import verify
from tocsin.plugins.reports.citizens import _limit, _not_negative
from tocsin.plugins.reports.sql import QueryRows, local
from tocsin.report import Column, Report, Table, bind_params
from tocsin.rules import failure_state
from tocsin.runtime import Runtime
from tocsin.status import PENDING
from tocsin.store.attempts import StatusUpdate
from tocsin.store.schema import contact_means, contacts, verifications

NEVER, PENDING_STATE, EXPIRED, LOCKED = "never sent", "pending", "expired", "locked"


@frozen
class VerificationParams:
    kind: str | None = None
    contact_id: int | None = None
    search: str = ""
    limit: int | None = field(default=50, validator=_limit)
    offset: int = field(default=0, validator=_not_negative)


COLUMNS = (
    Column("contact_id", "Contact", int),
    Column("first_name", "First name"),
    Column("last_name", "Last name"),
    Column("kind", "Kind"),
    Column("address", "Address"),
    Column("means_id", "Means", int),
    Column("sent_at", "Last sent", dt.datetime),
    Column("expires_at", "Expires", dt.datetime),
    Column("state", "Verification"),
)


def _query(p: VerificationParams, now: dt.datetime) -> Select[Any]:
    last = (
        select(verifications.c.means_id, func.max(verifications.c.id).label("vid"))
        .group_by(verifications.c.means_id)
        .subquery("last_challenge")
    )
    v = verifications.alias("v")
    state = case(
        (v.c.id.is_(None), literal(NEVER)),
        (v.c.failures >= verify.MAX_FAILURES, literal(LOCKED)),
        (v.c.expires_at <= now, literal(EXPIRED)),
        else_=literal(PENDING_STATE),
    )
    conds: list[ColumnElement[bool]] = [contact_means.c.verified.is_(False)]
    if p.kind:
        conds.append(contact_means.c.kind == p.kind)
    if p.contact_id is not None:
        conds.append(contacts.c.id == p.contact_id)
    if term := p.search.strip().lower():
        pattern = f"%{term}%"
        conds.append(or_(func.lower(contacts.c.first_name).like(pattern),
                         func.lower(contacts.c.last_name).like(pattern),
                         func.lower(contact_means.c.value).like(pattern)))
    return (
        select(contacts.c.id, contacts.c.first_name, contacts.c.last_name, contact_means.c.kind,
               contact_means.c.value, contact_means.c.id.label("means_id"),
               v.c.created_at, v.c.expires_at, state.label("state"))
        .select_from(
            contact_means.join(contacts, contacts.c.id == contact_means.c.contact_id)
            .outerjoin(last, last.c.means_id == contact_means.c.id)
            .outerjoin(v, v.c.id == last.c.vid)
        )
        .where(*conds)
        .order_by(contacts.c.last_name, contacts.c.first_name, contacts.c.id, contact_means.c.kind,
                  contact_means.c.value)
    )


def unverified(runtime: Runtime, p: VerificationParams) -> Table:
    """Means not yet verified, with their latest challenge's state (a streamed table)."""
    zone = runtime.config.core.zone
    now = runtime.clock.now()
    query = _query(p, now)
    with runtime.store.engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    if p.limit is not None:
        query = query.limit(p.limit)
    if p.offset:
        query = query.offset(p.offset)

    def convert(r: Any) -> Sequence[Any]:
        return (r.id, r.first_name, r.last_name, r.kind, r.value, r.means_id,
                local(r.created_at, zone), local(r.expires_at, zone), r.state)

    return Table("Unverified means", COLUMNS, QueryRows(runtime.store.engine, query, convert),
                 meta={"total": total, "offset": p.offset, "limit": p.limit},
                 filename="unverified-means")


@frozen
class Resent:
    """A verification handed to a channel: its challenge, attempt and first status."""

    verification_id: int
    attempt_id: int
    address: str
    via: str
    status: str
    error: str = ""


async def resend(runtime: Runtime, means_id: int, *, channel: Channel,
                 via: str | None = None) -> Resent:
    """Issue a new challenge for ``means_id`` and send it through ``channel`` (which must
    serve the ``via`` means; by default the usual one for the address's kind)."""
    store = runtime.store
    now = runtime.clock.now()
    via = via or channel.means
    if channel.means != via:
        raise ValidationError(f"channel {channel.name!r} sends {channel.means}, not {via}")
    machine = runtime.registry.machine(via)
    with store.transaction() as conn:
        challenge = verify.issue(store, means_id, now=now, via=via, conn=conn)
        contact = conn.execute(
            select(contacts.c.first_name, contacts.c.last_name, contacts.c.language,
                   contacts.c.organisation).where(contacts.c.id == challenge.contact_id)
        ).one_or_none()
        if contact is None:
            raise NotFoundError(f"no contact with id {challenge.contact_id}")
        attempt = Attempt(None, challenge.contact_id, via, challenge.address, PENDING,
                          channel=channel.name, kind=AttemptKind.VERIFICATION, created_at=now,
                          due_at=now)
        (attempt_id,) = store.attempts.insert_many([attempt], now=now, conn=conn)
        conn.execute(verifications.update().where(verifications.c.id == challenge.verification_id)
                     .values(attempt_id=attempt_id))
    rendered = verify.message(challenge, now=now, base_url=runtime.config.core.base_url)
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    outbound = OutboundAttempt(
        attempt=Attempt(None, challenge.contact_id, via, challenge.address, PENDING, id=attempt_id,
                        channel=channel.name, kind=AttemptKind.VERIFICATION, created_at=now),
        message=rendered, contact_name=name, language=contact.language,
        alert_title="Verification",
    )
    try:
        result = await channel.send(outbound)
    except Exception as exc:  # a channel bug or a lost connection: recorded, never swallowed
        result = PermanentFailure(reason=f"channel error: {exc!r}")
    done = runtime.clock.now()
    if isinstance(result, Accepted):
        status = result.status or machine.initial
        terminal = machine.is_terminal(status)
        update = StatusUpdate(attempt_id, status, done, reached=(status in machine.reached)
                              if terminal else None, provider_ref=result.provider_ref, sent_at=done,
                              completed_at=done if terminal else None)
        error = ""
    else:
        status = result.status if isinstance(result, PermanentFailure) and result.status \
            else failure_state(machine)
        error = result.reason
        update = StatusUpdate(attempt_id, status, done, reached=False, error=error,
                              completed_at=done)
    store.attempts.update_statuses([update])
    return Resent(challenge.verification_id, attempt_id, challenge.address, via, status, error)


async def resend_verification(runtime: Runtime, means_id: int, *, via: str | None = None) -> Resent:
    """Resend a verification through the engine running in this process (its channel
    for the means: ``[engine.routes]`` or the first channel configured for it)."""
    engine = runtime.services.get("engine")
    if engine is None:
        raise TocsinError("no engine runs in this process: verifications go out through the "
                          "engine's channels (start tocsin.app.Tocsin, or use tocsin verification send)")
    if via is None:
        with runtime.store.engine.connect() as conn:
            kind = conn.execute(select(contact_means.c.kind).where(contact_means.c.id == means_id)
                                ).scalar_one_or_none()
        if kind is None:
            raise NotFoundError(f"no contact means with id {means_id}")
        usable = [v for v in verify.VIA_FOR_KIND.get(kind, ()) if v in engine.routes]
        if not usable:
            raise ConfigError(f"no configured channel can verify a {kind} address "
                              f"(it needs one of: {', '.join(verify.VIA_FOR_KIND.get(kind, ()))})")
        via = usable[0]
    if via not in engine.routes:
        raise ConfigError(f"no configured channel sends {via}")
    return await resend(runtime, means_id, channel=engine.channels[engine.routes[via]], via=via)


REPORT = Report(
    name="verification",
    title="Unverified means",
    run=lambda runtime, **values: unverified(runtime, bind_params(VerificationParams, values)),
    description="Contacts whose phone numbers or e-mail addresses are not verified, with the "
    "state of the latest verification sent.",
    params=VerificationParams,
)
