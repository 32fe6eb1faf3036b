"""The by-citizen report and the statisticsAlert table list exactly the contacts and
attempts an independent filter over generated data selects, in name order."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reports_dataset import NAMES, PENDING, Scenario, outcomes, scenarios, write

from tocsin.errors import ValidationError
from tocsin.runtime import Runtime

SETTINGS = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])

filters = st.fixed_dictionaries(
    {},
    optional={
        "outcome": st.sampled_from(["contacted", "in progress", "not contacted"]),
        "means": st.sampled_from(["call", "sms", "email"]),
        "status": st.sampled_from([PENDING, "received", "failed", "completed", "sent"]),
        "search": st.sampled_from([n.lower() for n in NAMES] + ["e1", "anne zo", "ANNE"]),
    },
)


@SETTINGS
@given(scenario=scenarios(max_contacts=12), params=filters, limit=st.integers(1, 5),
       offset=st.integers(0, 6))
def test_citizens_page_matches_an_independent_filter(
    runtime: Runtime, scenario: Scenario, params: dict[str, str], limit: int, offset: int
) -> None:
    written = write(runtime.store, scenario)
    alert, alert_id = scenario.alerts[0], written.alert_ids[0]
    outcome_of = outcomes(alert)

    def matches(t: object) -> bool:
        return ("means" not in params or t.means == params["means"]) and (  # type: ignore[attr-defined]
            "status" not in params or t.status == params["status"])  # type: ignore[attr-defined]

    expected = []
    for c, _ in alert.audience:
        person = scenario.contacts[c]
        tries = sorted((t for t in alert.attempts if t.contact == c and matches(t)),
                       key=lambda t: t.created)
        if "outcome" in params and outcome_of[c] != params["outcome"]:
            continue
        if ("means" in params or "status" in params) and not tries:
            continue
        term = params.get("search", "").lower()
        names = (person.first.lower(), person.last.lower(), f"{person.first} {person.last}".lower())
        if term and not any(term in n for n in names):
            continue
        expected.append((person.last, person.first, written.contact_ids[c], outcome_of[c],
                         [(t.means, t.status, t.reached) for t in tries]))
    expected.sort(key=lambda e: (e[0], e[1], e[2]))

    if params.get("status") == PENDING:
        params = {**params, "status": "waiting"}  # the outbox status, as users name it
    page = runtime.registry.reports["citizens"].value.run(
        runtime, alert_id=alert_id, limit=limit, offset=offset, **params)
    assert page.total == len(expected)
    got = [(c.last_name, c.first_name, c.contact_id, c.outcome,
            [(a.means, a.status, a.reached) for a in c.attempts]) for c in page.items]
    # attempts of one contact created at the same second may come in id order: compare as sets
    window = expected[offset : offset + limit]
    assert [g[:4] for g in got] == [e[:4] for e in window]
    assert [sorted(map(repr, g[4])) for g in got] == [sorted(map(repr, e[4])) for e in window]

    rows = list(page.as_table().rows)
    assert len(rows) == sum(max(len(e[4]), 1) for e in window)
    assert [r[0] for r in rows] == [e[2] for e in window for _ in range(max(len(e[4]), 1))]

    everything = runtime.registry.reports["citizens"].value.run(
        runtime, alert_id=alert_id, limit=None, **params)
    assert everything.items == ()
    assert len(list(everything.as_table().rows)) == sum(max(len(e[4]), 1) for e in expected)


@SETTINGS
@given(scenario=scenarios(max_contacts=12))
def test_statistics_lists_every_contact_with_email_phone_and_reached(
    runtime: Runtime, scenario: Scenario
) -> None:
    written = write(runtime.store, scenario)
    for alert, alert_id in zip(scenario.alerts, written.alert_ids, strict=True):
        table = runtime.registry.reports["statistics"].value.run(runtime, alert_id=alert_id)
        assert table.filename == "statisticsAlert"
        assert [c.title for c in table.columns] == [
            "First name", "Last name", "E-mail", "Phone", "Reached"]
        outcome_of = outcomes(alert)
        expected = sorted(
            ((scenario.contacts[c].last, scenario.contacts[c].first, written.contact_ids[c], c)
             for c, _ in alert.audience),
        )
        rows = []
        for last, first, _, c in expected:
            p = scenario.contacts[c]
            rows.append((first, last, p.email or "", p.mobile or p.phone or "",
                         "reached" if outcome_of[c] == "contacted" else "not reached"))
        assert list(table.rows) == rows
        assert table.chart is not None
        counts = [list(outcome_of.values()).count(o)
                  for o in ("contacted", "in progress", "not contacted")]
        assert list(table.chart.values) == counts


def test_citizens_refuses_bad_filters_naming_them(runtime: Runtime) -> None:
    report = runtime.registry.reports["citizens"].value
    with pytest.raises(ValidationError, match="outcome"):
        report.run(runtime, alert_id=1, outcome="maybe")
    with pytest.raises(ValidationError, match="limit"):
        report.run(runtime, alert_id=1, limit=0)
    with pytest.raises(ValidationError, match="offset"):
        report.run(runtime, alert_id=1, offset=-1)
    with pytest.raises(ValidationError, match="unknown parameter"):
        report.run(runtime, alert_id=1, colour="red")
