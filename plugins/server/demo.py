"""Demonstration data: contacts, a group and an alert whose attempts are under way.

Used by ``tocsin serve --demo-data``, the browser tests and the benchmarks. The data is
written through the store's bulk writers, as a real alert leaves it: an audience in
``alert_contacts``, attempts with the status machines' states and the ``reached`` flag
set the way the engine sets it.
"""

from __future__ import annotations

import datetime as dt
import random

from attrs import frozen

from tocsin.model import (
    AddressKind,
    Alert,
    AlertState,
    Attempt,
    Contact,
    ContactMeans,
    Message,
)
from tocsin.store import Store

FIRST = ("Anne", "Luc", "Zoé", "Jean", "Inès", "Hugo", "Léa", "Paul", "Chloé", "Marc", "Sarah",
         "Louis", "Emma", "Nora", "Yanis", "Julie")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David")

# (status, reached) by means: roughly what a real alert shows after a while
SMS = (("received", True),) * 6 + (("sent", None), ("queued", None), ("undelivered", False),
                                   ("failed", False))
CALL = (("completed", True),) * 4 + (("ringing", None), ("no answer", False), ("busy", False),
                                     ("voicemail", False), ("failed", False))
EMAIL = (("received", True),) * 3 + (("opened", True),) * 2 + (("sent", None), ("rebound", False),
                                                               ("not sent", False))
TERMINAL_STATES = {s for s, reached in SMS + CALL + EMAIL if reached is not None}


@frozen
class Seeded:
    alert: Alert
    contact_ids: tuple[int, ...]
    attempts: int


def make_contacts(store: Store, count: int, *, rng: random.Random, now: dt.datetime,
                  prefix: str = "demo") -> list[int]:
    contacts = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        means = [ContactMeans(AddressKind.MOBILE, f"+3361{i:07d}"[:12], verified=rng.random() < 0.7),
                 ContactMeans(AddressKind.EMAIL, f"{first.lower()}.{last.lower()}.{i}@example.org"
                              .replace("é", "e").replace("è", "e").replace("ï", "i"),
                              verified=rng.random() < 0.5)]
        contacts.append(Contact(first, last, external_id=f"{prefix}-{i}", language="fr",
                                means=tuple(means)))
    return list(store.contacts.upsert(contacts, now=now).ids)


def seed_alert(
    store: Store,
    *,
    contacts: int,
    now: dt.datetime,
    title: str = "Coupure d'eau — quartier nord",
    means: tuple[str, ...] = ("sms", "call", "email"),
    seed: int = 7,
    group: str | None = None,
) -> Seeded:
    """An alert sent an hour ago to ``contacts`` new contacts by every means in ``means``."""
    rng = random.Random(seed)
    ids = make_contacts(store, contacts, rng=rng, now=now, prefix=f"{seed}-{title[:8]}")
    if group is not None:
        store.groups.create(group, now=now)
        store.groups.add(group, ids)
    sent = now - dt.timedelta(hours=1)
    messages = {"sms": Message("sms", "Coupure d'eau demain 8h-12h. Mairie."),
                "call": Message("call", "Bonjour {{ first_name }}, coupure d'eau demain."),
                "email": Message("email", "Coupure d'eau demain de 8h à 12h.",
                                 subject="Coupure d'eau")}
    alert = store.alerts.insert(
        Alert(title, tuple(messages[m] for m in means), state=AlertState.SENDING, sent_at=sent),
        now=sent)
    assert alert.id is not None
    tables = {"sms": SMS, "call": CALL, "email": EMAIL}
    rows = []
    for contact_id in ids:
        for m in means:
            status, reached = rng.choice(tables[m])
            address = f"+3361{contact_id:07d}" if m != "email" else f"c{contact_id}@example.org"
            done = sent + dt.timedelta(seconds=rng.randint(5, 1800))
            rows.append(Attempt(
                alert_id=alert.id, contact_id=contact_id, means=m, address=address, status=status,
                channel=f"demo-{m}", reached=reached, created_at=sent, sent_at=sent,
                completed_at=done if reached is not None else None,
                error="unreachable handset" if status in ("failed", "undelivered") else ""))
    with store.transaction() as conn:
        store.alerts.add_audience(alert.id, [(c, "") for c in ids], conn)
        store.attempts.insert_many(rows, now=now, conn=conn, returning=False)
        store.alerts.set_state(alert.id, AlertState.SENDING, now=now, conn=conn, sent_at=sent)
    return Seeded(store.alerts.get(alert.id), tuple(ids), len(rows))
