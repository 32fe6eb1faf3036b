"""The overview's figures equal an independent count over generated data sets
(empty alerts, drafts and alerts still sending included), on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from reports_dataset import SAlert, Scenario, expected_means, expected_outcome_counts, scenarios, write

from tocsin.errors import NotFoundError, ValidationError
from tocsin.plugins.reports.overview import AlertFigures
from tocsin.runtime import Runtime

SETTINGS = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_figures(fig: AlertFigures, alerts: list[SAlert]) -> None:
    counts = expected_outcome_counts(alerts)
    o = fig.outcome
    assert (o.contacted, o.in_progress, o.not_contacted) == (
        counts["contacted"], counts["in progress"], counts["not contacted"])
    assert o.total == sum(len(a.audience) for a in alerts)
    if o.total:
        assert math.isclose(o.share_contacted, counts["contacted"] / o.total)
        assert math.isclose(o.share_in_progress + o.share_contacted + o.share_not_contacted, 1.0)
    else:
        assert o.share_contacted == o.share_in_progress == o.share_not_contacted == 0.0

    starts = {i: a.sent_at for i, a in enumerate(alerts) if a.sent_at}
    expected = expected_means(alerts, starts)
    assert {m.means for m in fig.means} == set(expected)
    for m in fig.means:
        e = expected[m.means]
        assert m.attempts == e["attempts"]
        assert {s.status: s.count for s in m.statuses} == dict(e["statuses"])  # type: ignore[call-overload]
        assert m.attempts_reached == e["reached"]
        assert m.attempts_in_progress == e["pending"]
        assert m.contacts == e["contacts"]
        assert m.contacts_reached == e["contacts_reached"]
        assert math.isclose(m.reached_share, e["contacts_reached"] / e["contacts"])  # type: ignore[operator]
        assert {(f.status, f.reason): f.count for f in m.failures} == dict(e["failures"])  # type: ignore[call-overload]
        if e["median"] is None:
            assert m.median_seconds_to_reach is None
        else:
            assert m.median_seconds_to_reach == pytest.approx(e["median"], abs=1e-3)

    audience = {(i, c): missing for i, a in enumerate(alerts) for c, missing in a.audience}
    tried = {(i, t.contact) for i, a in enumerate(alerts) for t in a.attempts}
    unattempted: dict[str, int] = {}
    for key, missing in audience.items():
        if key not in tried and missing:  # listed by the reason recorded for them
            unattempted[missing] = unattempted.get(missing, 0) + 1
    assert {r.missing: r.count for r in fig.not_attempted} == unattempted


@SETTINGS
@given(scenario=scenarios())
def test_overview_of_each_alert_matches_an_independent_count(runtime: Runtime, scenario: Scenario) -> None:
    written = write(runtime.store, scenario)
    report = runtime.registry.reports["overview"].value
    for alert_id, alert in zip(written.alert_ids, scenario.alerts, strict=True):
        result = report.run(runtime, alert_id=alert_id)
        assert result.title == alert.title
        assert result.communications == (result.total,)
        assert result.total.state == alert.state
        check_figures(result.total, [alert])


@SETTINGS
@given(scenario=scenarios(max_alerts=4))
def test_overview_of_a_campaign_gives_each_communication_and_the_total(
    runtime: Runtime, scenario: Scenario
) -> None:
    written = write(runtime.store, scenario)
    members = [a for a in scenario.alerts if a.in_campaign]
    result = runtime.registry.reports["overview"].value.run(runtime, campaign_id=written.campaign_id)
    assert [c.title for c in result.communications] == [a.title for a in members]
    for fig, alert in zip(result.communications, members, strict=True):
        check_figures(fig, [alert])
    check_figures(result.total, members)
    table = result.as_table()
    outcome_rows = [r for r in table.rows if r[0] == "total" and r[1] == "outcome"]
    assert [r[5] for r in outcome_rows] == [
        result.total.outcome.contacted, result.total.outcome.in_progress,
        result.total.outcome.not_contacted]


def test_overview_refuses_bad_parameters_and_unknown_alerts(runtime: Runtime) -> None:
    report = runtime.registry.reports["overview"].value
    with pytest.raises(ValidationError, match="exactly one"):
        report.run(runtime)
    with pytest.raises(ValidationError, match="exactly one"):
        report.run(runtime, alert_id=1, campaign_id=1)
    with pytest.raises(ValidationError, match="alert_id"):
        report.run(runtime, alert_id="three")
    with pytest.raises(NotFoundError, match="no alert with id 999"):
        report.run(runtime, alert_id=999)
    with pytest.raises(NotFoundError, match="no campaign"):
        report.run(runtime, campaign_id=999)
