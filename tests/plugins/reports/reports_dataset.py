"""Generated data sets for the report tests, and an independent count over them.

A :class:`Scenario` is plain Python data (contacts, alerts, audiences, attempts) drawn
by hypothesis; :func:`write` puts it into a store with the store's bulk APIs; the
``expected_*`` functions count in plain Python what each report must say.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from hypothesis import strategies as st
from sqlalchemy import delete, insert

from tocsin.builtin_statuses import CALL, EMAIL, SMS
from tocsin.model import Alert, AlertState, Attempt, AttemptKind, Contact, ContactMeans, Message
from tocsin.status import PENDING
from tocsin.store import Store
from tocsin.store.schema import (
    alert_contacts,
    alerts,
    attempts,
    campaigns,
    contact_means,
    contacts,
)

BASE = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)  # a Monday
MACHINES = {"call": CALL, "sms": SMS, "email": EMAIL}
NAMES = ("Anne", "Bruno", "Chloé", "Dan", "Eve", "anne", "Zoé")
REASONS = ("", "unreachable handset", "unknown destination", "mailbox full")
MISSING = ("", "", "sms", "call,sms", "email")


@dataclass
class SContact:
    first: str
    last: str
    email: str | None
    mobile: str | None
    phone: str | None
    verified: tuple[bool, bool, bool]


@dataclass
class SAttempt:
    contact: int  # index into contacts
    means: str
    status: str
    reached: bool | None
    error: str
    kind: str
    created: dt.datetime
    sent: dt.datetime | None
    completed: dt.datetime | None


@dataclass
class SAlert:
    title: str
    state: str
    sent_at: dt.datetime | None
    in_campaign: bool
    audience: list[tuple[int, str]]  # (contact index, missing)
    attempts: list[SAttempt] = field(default_factory=list)


@dataclass
class Scenario:
    contacts: list[SContact]
    alerts: list[SAlert]


@dataclass
class Written:
    contact_ids: list[int]
    alert_ids: list[int]
    campaign_id: int


def _reached_for(means: str, status: str) -> bool | None:
    machine = MACHINES[means]
    if status == PENDING or not machine.is_terminal(status):
        return None
    # the default policy with e-mail "sent" counting (it is not terminal, so never here)
    return status in machine.reached


@st.composite
def attempt_for(draw: st.DrawFn, contact: int, start: dt.datetime) -> SAttempt:
    means = draw(st.sampled_from(sorted(MACHINES)))
    status = draw(st.sampled_from((PENDING, *MACHINES[means].states)))
    reached = _reached_for(means, status)
    created = start + dt.timedelta(minutes=draw(st.integers(0, 60 * 24 * 3)),
                                   seconds=draw(st.integers(0, 59)))
    sent = None if status == PENDING else created + dt.timedelta(seconds=draw(st.integers(0, 90)))
    completed = None
    if reached is not None and sent is not None:
        completed = sent + dt.timedelta(seconds=draw(st.integers(1, 7200)),
                                        microseconds=draw(st.integers(0, 999_999)))
    error = draw(st.sampled_from(REASONS)) if reached is False else ""
    kind = draw(st.sampled_from([str(AttemptKind.INITIAL), str(AttemptKind.REMINDER),
                                 str(AttemptKind.RECONTACT)]))
    return SAttempt(contact, means, status, reached, error, kind, created, sent, completed)


@st.composite
def scenarios(draw: st.DrawFn, max_contacts: int = 10, max_alerts: int = 3) -> Scenario:
    n = draw(st.integers(0, max_contacts))
    people = []
    for i in range(n):
        def maybe(value: str) -> st.SearchStrategy[str | None]:
            return st.one_of(st.none(), st.just(value))

        people.append(SContact(
            first=draw(st.sampled_from(NAMES)),
            last=draw(st.sampled_from(NAMES)) + f"{i}",
            email=draw(maybe(f"p{i}@example.org")),
            mobile=draw(maybe(f"+3361234{i:04d}")),
            phone=draw(maybe(f"+3314567{i:04d}")),
            verified=(draw(st.booleans()), draw(st.booleans()), draw(st.booleans())),
        ))
    made = []
    for a in range(draw(st.integers(1, max_alerts))):
        state = draw(st.sampled_from(["draft", "sending", "finished"]))
        start = BASE + dt.timedelta(days=draw(st.integers(-40, 10)), minutes=draw(st.integers(0, 600)))
        members = draw(st.lists(st.integers(0, n - 1), unique=True)) if n and state != "draft" else []
        alert = SAlert(
            title=f"Alert {a} {draw(st.sampled_from(['flood', 'storm', 'water']))}",
            state=state,
            sent_at=start if state != "draft" else None,
            in_campaign=draw(st.booleans()),
            audience=[(c, draw(st.sampled_from(MISSING))) for c in members],
        )
        for c in members:
            alert.attempts.extend(draw(st.lists(attempt_for(c, start), max_size=3)))
        made.append(alert)
    return Scenario(people, made)


def reset(store: Store) -> None:
    """Empty the tables a scenario writes (each hypothesis example starts afresh)."""
    with store.transaction() as conn:
        for table in (attempts, alert_contacts, alerts, campaigns, contact_means, contacts):
            conn.execute(delete(table))


def write(store: Store, scenario: Scenario) -> Written:
    """Write ``scenario`` with the store's bulk APIs."""
    reset(store)
    people = []
    for p in scenario.contacts:
        means = []
        for kind, value, verified in zip(("email", "mobile", "phone"), (p.email, p.mobile, p.phone),
                                         p.verified, strict=True):
            if value:
                means.append(ContactMeans(kind, value, verified=verified))
        people.append(Contact(p.first, p.last, means=means))
    ids = list(store.contacts.upsert(people, now=BASE).ids)
    with store.transaction() as conn:
        campaign_id = conn.execute(
            insert(campaigns).returning(campaigns.c.id),
            {"name": "Winter campaign", "kind": "alert", "contract_types": [], "created_at": BASE},
        ).scalar_one()
    alert_ids = []
    for i, a in enumerate(scenario.alerts):
        finished = a.sent_at + dt.timedelta(hours=2) if a.state == "finished" and a.sent_at else None
        stored = store.alerts.insert(
            Alert(a.title, [Message("sms", "hello")], state=AlertState(a.state),
                  campaign_id=campaign_id if a.in_campaign else None, sent_at=a.sent_at,
                  finished_at=finished),
            now=BASE - dt.timedelta(days=60) + dt.timedelta(minutes=i),
        )
        assert stored.id is not None
        alert_ids.append(stored.id)
        with store.transaction() as conn:
            store.alerts.add_audience(stored.id, [(ids[c], m) for c, m in a.audience], conn)
        store.attempts.insert_many(
            [
                Attempt(stored.id, ids[t.contact], t.means, f"addr-{t.contact}", t.status,
                        kind=AttemptKind(t.kind), reached=t.reached, error=t.error,
                        created_at=t.created, sent_at=t.sent, completed_at=t.completed)
                for t in a.attempts
            ],
            now=BASE,
            returning=False,
        )
    return Written(ids, alert_ids, campaign_id)


# -- the independent count -------------------------------------------------------------------


def outcome(tries: list[SAttempt]) -> str:
    if any(t.reached is True for t in tries):
        return "contacted"
    if any(t.reached is None for t in tries):
        return "in progress"
    return "not contacted"


def outcomes(alert: SAlert) -> dict[int, str]:
    """Each audience member's outcome (contact index -> outcome)."""
    by_contact: dict[int, list[SAttempt]] = defaultdict(list)
    for t in alert.attempts:
        by_contact[t.contact].append(t)
    return {c: outcome(by_contact[c]) for c, _ in alert.audience}


def expected_outcome_counts(alerts_: list[SAlert]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for a in alerts_:
        counts.update(outcomes(a).values())
    return counts


def expected_means(alerts_: list[SAlert], start_of: dict[int, dt.datetime]) -> dict[str, dict[str, object]]:
    """Per means: attempts, by status, reached/in progress attempts, contacts, contacts
    reached, failures by (status, reason) and the median seconds to reach."""
    result: dict[str, dict[str, object]] = {}
    per_contact: dict[str, dict[tuple[int, int], list[SAttempt]]] = defaultdict(lambda: defaultdict(list))
    for ai, a in enumerate(alerts_):
        for t in a.attempts:
            per_contact[t.means][(ai, t.contact)].append(t)
    for means, groups in per_contact.items():
        tries = [t for ts in groups.values() for t in ts]
        seconds = [(t.completed - start_of[ai]).total_seconds()
                   for (ai, _), ts in groups.items() for t in ts
                   if t.reached is True and t.completed is not None]
        result[means] = {
            "attempts": len(tries),
            "statuses": Counter(t.status for t in tries),
            "reached": sum(t.reached is True for t in tries),
            "pending": sum(t.reached is None for t in tries),
            "contacts": len(groups),
            "contacts_reached": sum(any(t.reached is True for t in ts) for ts in groups.values()),
            "failures": Counter((t.status, t.error) for t in tries if t.reached is False),
            "median": statistics.median(seconds) if seconds else None,
        }
    return result
