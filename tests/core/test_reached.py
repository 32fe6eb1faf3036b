"""The default reached policy: each machine's reached states, with the documented
options and the confirmation rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.builtin_statuses import CALL, EMAIL, SMS
from tocsin.model import Category
from tocsin.reached import DEFAULT_POLICY, ReachedOptions

GENERAL = Category("general")
CONFIRM = Category("evacuation", requires_confirmation=True)


def test_defaults_count_completed_calls_delivered_sms_and_sent_or_complained_emails() -> None:
    options = ReachedOptions()
    assert DEFAULT_POLICY.reached(CALL, GENERAL, options) == {"completed", "confirmed"}
    assert DEFAULT_POLICY.reached(SMS, GENERAL, options) == {"received", "confirmed"}
    assert DEFAULT_POLICY.reached(EMAIL, GENERAL, options) == {"sent", "received", "opened", "marked as spam"}


def test_a_confirmation_category_counts_only_confirmed_calls_and_sms() -> None:
    assert DEFAULT_POLICY.reached(CALL, CONFIRM, ReachedOptions()) == {"confirmed"}
    # an SMS delivered but not answered with a keyword is not a confirmation
    assert DEFAULT_POLICY.reached(SMS, CONFIRM, ReachedOptions()) == {"confirmed"}


def test_sms_sent_never_counts_when_confirmation_is_required() -> None:
    assert DEFAULT_POLICY.reached(SMS, CONFIRM, ReachedOptions(count_sms_sent=True)) == {"confirmed"}


def test_a_voicemail_counts_only_when_configured_and_never_when_confirmation_is_required() -> None:
    options = ReachedOptions(count_voicemail=True)
    assert "voicemail" in DEFAULT_POLICY.reached(CALL, GENERAL, options)
    assert DEFAULT_POLICY.reached(CALL, CONFIRM, options) == {"confirmed"}


def test_sms_sent_counts_only_when_configured() -> None:
    assert DEFAULT_POLICY.reached(SMS, GENERAL, ReachedOptions(count_sms_sent=True)) == {
        "sent", "received", "confirmed"}


def test_email_sent_can_be_turned_off() -> None:
    assert DEFAULT_POLICY.reached(EMAIL, GENERAL, ReachedOptions(count_email_sent=False)) == {
        "received",
        "opened",
        "marked as spam",
    }


@given(
    options=st.builds(ReachedOptions, st.just("default"), st.booleans(), st.booleans(), st.booleans()),
    category=st.sampled_from([GENERAL, CONFIRM]),
    machine=st.sampled_from([CALL, SMS, EMAIL]),
)
def test_reached_states_are_always_states_of_the_machine_and_never_failures(
    options: ReachedOptions, category: Category, machine: object
) -> None:
    reached = DEFAULT_POLICY.reached(machine, category, options)  # type: ignore[arg-type]
    assert reached <= set(machine.states)  # type: ignore[attr-defined]
    assert reached
    assert not reached & {"failed", "not sent", "rejected", "rebound", "undelivered", "busy", "no answer"}


@pytest.mark.parametrize("machine", [EMAIL])
def test_confirmation_changes_nothing_for_a_means_without_a_confirmed_state(machine: object) -> None:
    options = ReachedOptions()
    assert DEFAULT_POLICY.reached(machine, CONFIRM, options) == DEFAULT_POLICY.reached(  # type: ignore[arg-type]
        machine, GENERAL, options  # type: ignore[arg-type]
    )
