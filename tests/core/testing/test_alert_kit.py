"""The alert conformance machine runs the real engine through time and finds no breach
of the rules; a few fixed stories check that its steps do what they say."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tocsin.model import AlertState, AttemptKind
from tocsin.reached import ReachedOptions
from tocsin.testing.alert_kit import AlertConformance, Person, run_alert_conformance
from tocsin.testing.databases import postgres_schemas


def test_the_engine_honours_the_reminder_recontact_and_outcome_rules_through_time() -> None:
    run_alert_conformance()


@pytest.fixture
def kit() -> Iterator[AlertConformance]:
    machine = AlertConformance()
    yield machine
    machine.teardown()


def check(kit: AlertConformance) -> None:
    kit.attempts_follow_their_machines_and_the_policy()
    kit.every_report_is_recorded()
    kit.outcome_counts_add_up_to_the_audience()
    kit.the_alert_finishes_when_nothing_is_left()


def kinds(kit: AlertConformance) -> list[tuple[int, str, AttemptKind]]:
    return [(m.contact, m.means, m.kind) for _, m in sorted(kit.model.items())]


def test_a_reminder_goes_only_to_the_unreached_and_a_late_report_is_counted(kit: AlertConformance) -> None:
    kit.send_the_alert(
        audience=[Person(0, frozenset({"mobile"})), Person(0, frozenset({"mobile"}))],
        means=["sms"], confirmation=False, options=ReachedOptions(), offsets=(30, 60), plan=None,
    )
    first, second = sorted(kit.people)
    sms_of = {m.contact: aid for aid, m in kit.model.items()}
    kit.time_passes(5)
    kit._report(sms_of[first], "received")
    check(kit)
    kit.time_passes(30)  # the first reminder: only the second contact
    check(kit)
    assert kinds(kit)[2:] == [(second, "sms", AttemptKind.REMINDER)]
    kit._report(sms_of[second], "received")  # the initial SMS was delivered after all
    check(kit)
    kit.time_passes(30)  # the second reminder finds everybody reached
    check(kit)
    assert len(kit.model) == 3
    assert kit._alert_state() is AlertState.SENT  # the reminder attempt is still out


def test_recontact_is_refused_before_the_reminders_and_reaches_the_unreached_after(
    kit: AlertConformance,
) -> None:
    kit.send_the_alert(
        audience=[Person(0, frozenset({"mobile", "email"}))],
        means=["call", "email"], confirmation=True, options=ReachedOptions(count_email_sent=False),
        offsets=(30,), plan=None,
    )
    kit.ticks = 5
    kit.the_operator_recontacts()  # refused: asserted inside
    assert all(m.kind is not AttemptKind.RECONTACT for m in kit.model.values())
    kit.time_passes(30)
    kit.time_passes(5)
    kit.the_operator_recontacts()
    check(kit)
    assert [k for _, _, k in kinds(kit)].count(AttemptKind.RECONTACT) == 2


def test_an_escalation_plan_tries_the_next_means_only_for_the_unreached(kit: AlertConformance) -> None:
    kit.send_the_alert(
        audience=[Person(0, frozenset({"mobile", "email"})), Person(0, frozenset({"mobile", "email"}))],
        means=["call", "email"], confirmation=False, options=ReachedOptions(count_email_sent=False),
        offsets=(30, 60), plan=([(0, 0), (1, 10)], 1, 30),
    )
    first, second = sorted(kit.people)
    assert [k for _, m, k in kinds(kit)] == [AttemptKind.INITIAL, AttemptKind.INITIAL]
    call_of = {m.contact: aid for aid, m in kit.model.items()}
    kit._report(call_of[first], "completed")
    kit.time_passes(15)  # the e-mail step: only the second contact
    check(kit)
    assert kinds(kit)[2:] == [(second, "email", AttemptKind.ESCALATION)]


# -- the kit catches an engine that breaks the rules --------------------------------------


def test_the_kit_catches_a_reminder_that_re_attempts_a_reached_contact(
    kit: AlertConformance, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin import rules

    def everyone(alert: object, by_contact: dict[int, object], attempts: object) -> list[tuple[int, str]]:
        return [(cid, m) for cid in sorted(by_contact) for m in alert.means]  # type: ignore[attr-defined]

    monkeypatch.setattr(rules, "reminder_targets", everyone)
    kit.send_the_alert(
        audience=[Person(0, frozenset({"mobile"})), Person(0, frozenset({"mobile"}))],
        means=["sms"], confirmation=False, options=ReachedOptions(), offsets=(30,), plan=None,
    )
    first = min(kit.people)
    kit._report(next(a for a, m in kit.model.items() if m.contact == first), "received")
    with pytest.raises(AssertionError, match=f"contact {first} was reached, yet reminder attempt"):
        kit.time_passes(30)


def test_the_kit_catches_a_recontact_allowed_before_the_reminders(
    kit: AlertConformance, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin import rules

    monkeypatch.setattr(rules, "recontact_refusal", lambda *args, **kwargs: None)
    kit.send_the_alert(
        audience=[Person(0, frozenset({"mobile"}))],
        means=["sms"], confirmation=False, options=ReachedOptions(), offsets=(30, 60), plan=None,
    )
    with pytest.raises(AssertionError, match="recontact was accepted before the automatic reminders"):
        kit.the_operator_recontacts()


def test_the_kit_catches_a_reminder_that_forgets_an_unreached_contact(
    kit: AlertConformance, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin import rules

    real = rules.reminder_targets
    monkeypatch.setattr(rules, "reminder_targets", lambda *a: real(*a)[1:])  # drops the first pair
    kit.send_the_alert(
        audience=[Person(0, frozenset({"mobile"})), Person(0, frozenset({"mobile"}))],
        means=["sms"], confirmation=False, options=ReachedOptions(), offsets=(30,), plan=None,
    )
    with pytest.raises(AssertionError, match="nobody unreached may be forgotten"):
        kit.time_passes(30)


@pytest.mark.postgres
def test_the_engine_honours_the_rules_on_postgresql(pg_base_url: str) -> None:
    run_alert_conformance(postgres_schemas(pg_base_url))
