"""The built-in machines have exactly the states users know, and judge real provider
report sequences as providers deliver them."""

from __future__ import annotations

import pytest

from tocsin.builtin_statuses import CALL, EMAIL, SMS
from tocsin.plugin_manager import load_plugins
from tocsin.registry import build_registry
from tocsin.status import PENDING, StatusMachine, Verdict


def test_the_call_machine_has_exactly_the_issue_states() -> None:
    assert CALL.states == (
        "queued", "started", "ringing", "in progress",
        "busy", "fax", "voicemail", "completed", "confirmed", "no answer", "failed",
    )  # fmt: skip
    assert CALL.initial == "queued"
    assert CALL.terminal == {"busy", "fax", "voicemail", "completed", "confirmed", "no answer", "failed"}
    assert CALL.reached == {"completed", "confirmed"}


def test_the_sms_machine_has_exactly_the_issue_states() -> None:
    assert SMS.states == (
        "accepted", "queued", "sending", "sent", "received", "undelivered", "failed", "confirmed",
    )  # fmt: skip
    assert SMS.initial == "accepted"
    assert SMS.terminal == {"received", "undelivered", "failed", "confirmed"}
    assert SMS.reached == {"received", "confirmed"}
    assert SMS.label("received") == "received (delivered)"
    assert SMS.label("confirmed") == "confirmed (replied)"


def test_an_sms_reply_confirms_before_or_after_the_delivery_report() -> None:
    assert _run(SMS, ["accepted", "sent", "confirmed", "received"]) == ("confirmed", [A, A, A, B])
    assert _run(SMS, ["accepted", "sent", "received", "confirmed"]) == ("confirmed", [A, A, A, A])
    # an undelivered message cannot have been answered; a failed one never left
    assert _run(SMS, ["sent", "undelivered", "confirmed"])[1][-1] is R
    assert _run(SMS, ["failed", "confirmed"])[1][-1] is R


def test_the_email_machine_has_exactly_the_issue_states() -> None:
    assert EMAIL.states == ("sent", "received", "opened", "rebound", "marked as spam", "rejected", "not sent")
    assert EMAIL.initial == "sent"
    assert EMAIL.terminal == {"received", "opened", "rebound", "marked as spam", "rejected", "not sent"}
    assert EMAIL.reached == {"received", "opened", "marked as spam"}
    assert EMAIL.label("rebound") == "rebound (hard bounce)"


def test_the_builtin_machines_are_registered_through_the_entry_point() -> None:
    registry = build_registry(load_plugins())
    for machine in (CALL, SMS, EMAIL):
        entry = registry.status_machines[machine.means]
        assert entry.value is machine
        assert entry.plugin == "core-statuses"
    assert registry.reached_policy("default").name == "default"


def _run(machine: StatusMachine, stream: list[str]) -> tuple[str, list[Verdict]]:
    current, verdicts = PENDING, []
    for status in stream:
        decision = machine.decide(current, status)
        verdicts.append(decision.verdict)
        if decision.applies:
            current = status
    return current, verdicts


A, D, B, R = Verdict.APPLY, Verdict.DUPLICATE, Verdict.ABSORB, Verdict.REFUSE


@pytest.mark.parametrize(
    ("machine", "stream", "final", "verdicts"),
    [
        # Twilio-style SMS callbacks: delivered before sent, then sent twice.
        (SMS, ["queued", "received", "sent", "sent"], "received", [A, A, B, B]),
        (SMS, ["accepted", "sent", "undelivered", "received"], "undelivered", [A, A, A, R]),
        (SMS, ["received", "failed"], "received", [A, R]),
        (SMS, ["sending", "accepted", "queued", "sending"], "sending", [A, B, B, D]),
        # The digit reported after the hang-up: a completed call becomes confirmed.
        (CALL, ["queued", "ringing", "in progress", "completed", "confirmed"], "confirmed", [A, A, A, A, A]),
        (CALL, ["in progress", "confirmed", "completed"], "confirmed", [A, A, B]),
        (CALL, ["ringing", "busy", "in progress"], "busy", [A, A, R]),
        (CALL, ["voicemail", "confirmed"], "voicemail", [A, R]),
        (CALL, ["no answer", "ringing", "queued"], "no answer", [A, B, B]),
        # E-mail: an open seen before the delivery notice; a complaint after an open.
        (EMAIL, ["sent", "opened", "received", "marked as spam"], "marked as spam", [A, A, B, A]),
        (EMAIL, ["not sent", "sent"], "not sent", [A, R]),
        (EMAIL, ["rejected", "sent"], "rejected", [A, B]),
        (EMAIL, ["sent", "rebound", "opened"], "rebound", [A, A, R]),
        (EMAIL, ["sent", "failed"], "sent", [A, R]),
    ],
)
def test_real_report_sequences_are_judged_as_providers_deliver_them(
    machine: StatusMachine, stream: list[str], final: str, verdicts: list[Verdict]
) -> None:
    assert _run(machine, stream) == (final, verdicts)
