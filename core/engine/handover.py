"""Handing one attempt to its channel, and what the result means for the attempt.

This is the unit a dispatcher runs: :class:`Preparer` turns claimed attempts into what
a channel receives (the message rendered for the contact), :func:`hand_over` calls the
channel, and :func:`effect_of` turns its typed result into a status event or a return to
the outbox. A dispatcher on a distributed task queue runs the same three steps in its
workers.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen
from sqlalchemy import select

from tocsin import rules
from tocsin.channel import (
    Accepted,
    Channel,
    OutboundAttempt,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
)
from tocsin.engine.templates import CompiledMessage, TemplateError, compile_alert, contact_fields
from tocsin.model import Alert, Attempt, Contact, StatusEvent
from tocsin.status import StatusMachine
from tocsin.store import Store
from tocsin.store.contacts import SENDING_COLUMNS, sending_contact
from tocsin.store.filters import among
from tocsin.store.outbox import Reschedule
from tocsin.store.schema import contacts

log = logging.getLogger("tocsin.engine.handover")


@frozen
class Prepared:
    """A claimed attempt and what to hand over, or why it cannot be (a render error)."""

    attempt: Attempt
    outbound: OutboundAttempt | None
    error: str = ""


@frozen
class RetryPolicy:
    max_tries: int = 5
    base: dt.timedelta = dt.timedelta(seconds=30)
    cap: dt.timedelta = dt.timedelta(hours=1)


def _light_contacts(store: Store, ids: Sequence[int]) -> dict[int, Contact]:
    """Contacts with the fields templates use (their means are not needed to send)."""
    found: dict[int, Contact] = {}
    with store.engine.connect() as conn:
        for i in range(0, len(ids), 900):
            query = select(*SENDING_COLUMNS).where(among(contacts.c.id, ids[i : i + 900], store.dialect))
            for r in conn.execute(query):
                found[r.id] = sending_contact(r)
    return found


class Preparer:
    """Renders claimed attempts, with each alert's templates compiled once."""

    CACHE = 20_000
    """Contacts kept between batches: an alert's means are claimed by different
    channels, so each contact is asked for once per means, close together."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._alerts: dict[int, tuple[Alert, Mapping[str, CompiledMessage]]] = {}
        self._contacts: dict[int, Contact] = {}
        self._lock = threading.Lock()  # several database threads prepare at once on PostgreSQL

    def _contacts_for(self, ids: Sequence[int], known: Mapping[int, Contact]) -> Mapping[int, Contact]:
        if known:
            self._remember(known)
            if all(i in known for i in ids):
                return known
        cache = self._contacts
        with self._lock:
            found = {i: cache[i] for i in ids if i in cache}
        missing = [i for i in ids if i not in found]
        if missing:
            loaded = _light_contacts(self.store, missing)
            found.update(loaded)
            self._remember(loaded)
        return found

    def _remember(self, found: Mapping[int, Contact]) -> None:
        cache = self._contacts
        with self._lock:
            cache.update(found)
            if len(cache) > self.CACHE:  # the oldest go, in one pass (a pop at a time rescans)
                for key in list(itertools.islice(cache, len(cache) - self.CACHE)):
                    del cache[key]

    def alert(self, alert_id: int) -> tuple[Alert, Mapping[str, CompiledMessage]]:
        found = self._alerts.get(alert_id)
        if found is None:
            alert = self.store.alerts.get(alert_id)
            found = self._alerts[alert_id] = (alert, compile_alert(alert))
        return found

    def prepare(
        self, claimed: Sequence[Attempt], known: Mapping[int, Contact] | None = None
    ) -> list[Prepared]:
        """What to hand over for each claimed attempt (in the database thread); ``known``
        are contacts already read with :data:`~tocsin.store.contacts.SENDING_COLUMNS`
        (a fan-out page's), kept for the attempts of other means claimed later."""
        found = self._contacts_for(sorted({a.contact_id for a in claimed}), known or {})
        fields: dict[tuple[int, int], Mapping[str, Any]] = {}  # a contact's, once per alert
        out: list[Prepared] = []
        for attempt in claimed:
            if attempt.alert_id is None:
                out.append(Prepared(attempt, None, "an attempt without an alert has no message"))
                continue
            alert, compiled = self.alert(attempt.alert_id)
            message = compiled.get(attempt.means)
            contact = found.get(attempt.contact_id)
            if message is None or contact is None:
                why = "the alert has no message for this means" if message is None else "contact deleted"
                out.append(Prepared(attempt, None, why))
                continue
            values: Mapping[str, Any] = {}
            if message.parts:
                key = (attempt.alert_id, attempt.contact_id)
                cached = fields.get(key)
                if cached is None:
                    cached = fields[key] = contact_fields(contact, alert)
                values = cached
            try:
                rendered = message.render(values)
            except TemplateError as exc:
                out.append(Prepared(attempt, None, str(exc)))
                continue
            out.append(
                Prepared(
                    attempt,
                    OutboundAttempt(
                        attempt=attempt,
                        message=rendered,
                        contact_name=contact.full_name,
                        language=contact.language,
                        requires_confirmation=alert.category.requires_confirmation,
                        alert_title=alert.title,
                    ),
                )
            )
        return out


async def hand_over(channel: Channel, outbound: OutboundAttempt) -> SendResult:
    """Call the channel; an exception it raises is a temporary failure naming it."""
    try:
        result = await channel.send(outbound)
    except Exception as exc:  # a channel bug or a lost connection: retried, never lost
        log.warning("channel %s raised on attempt %s: %r", channel.name, outbound.attempt.id, exc)
        return TemporaryFailure(reason=f"channel error: {exc!r}")
    if not isinstance(result, Accepted | TemporaryFailure | PermanentFailure):
        return PermanentFailure(reason=f"channel {channel.name} returned {result!r}, not a SendResult")
    return result


def effect_of(
    attempt: Attempt,
    result: SendResult,
    machine: StatusMachine,
    retry: RetryPolicy,
    now: dt.datetime,
    source: str,
) -> StatusEvent | Reschedule:
    """What a send result does to its attempt (``attempt.tries`` counts this hand-over)."""
    aid = attempt.id
    if isinstance(result, Accepted):
        return StatusEvent(
            status=result.status or machine.initial,
            at=now,
            attempt_id=aid,
            provider_ref=result.provider_ref,
            source=source,
        )
    if isinstance(result, TemporaryFailure):
        if rules.should_retry(attempt.tries, retry.max_tries):
            delay = rules.retry_delay(
                attempt.tries, base=retry.base, cap=retry.cap, retry_after=result.retry_after
            )
            return Reschedule(int(aid or 0), now + delay, result.reason)
        return StatusEvent(
            status=rules.failure_state(machine),
            at=now,
            attempt_id=aid,
            reason=f"{result.reason} (gave up after {attempt.tries} tries)",
            source=source,
            data={"code": result.code} if result.code else {},
        )
    return StatusEvent(
        status=result.status or rules.failure_state(machine),
        at=now,
        attempt_id=aid,
        reason=result.reason,
        source=source,
        data={"code": result.code} if result.code else {},
    )


__all__ = ["Prepared", "Preparer", "RetryPolicy", "effect_of", "hand_over"]
