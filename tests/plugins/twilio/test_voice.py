"""``twilio-voice`` against the simulator: TwiML in the contact's language, press 1,
answering-machine detection, and every call ending mapped onto the call machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.builtin_statuses import CALL
from tocsin.channel import Accepted, PermanentFailure

from .conftest import apply, outbound, twilio_env

pytestmark = pytest.mark.timeout(60)

TEXT = "Alerte inondation. Quittez le rez-de-chaussée."


async def _call(tmp_path: Path, scenario: str, *, confirm: bool = False, language: str = "fr",
                **overrides: object) -> tuple[object, list[str], object, list[object]]:
    async with twilio_env(tmp_path, {"call": {"default": scenario}}, **overrides) as env:
        channel = await env.started("voice")
        result = await channel.send(
            outbound("+33612345678", TEXT, means="call", attempt_id=7, language=language, confirm=confirm)
        )
        assert isinstance(result, Accepted)
        await env.sim.settle()
        events = env.sink.for_ref(result.provider_ref)
        record = env.sim.calls[str(result.provider_ref)]
        return result, apply(CALL, result.status, events), record, events


async def test_pressing_1_confirms_a_call_that_requires_confirmation(tmp_path: Path) -> None:
    _, applied, record, events = await _call(tmp_path, "press:1", confirm=True)
    assert applied == ["queued", "started", "ringing", "in progress", "confirmed"]
    assert record.digits == ["1"]
    confirmed = next(e for e in events if e.status == "confirmed")
    assert confirmed.attempt_id == 7 and confirmed.reason == "pressed 1"
    # the message is spoken in the contact's language, then the prompt, then the thanks
    assert record.spoken[0] == ("fr-FR", TEXT)
    assert "appuyez sur 1" in record.spoken[1][1]
    assert record.spoken[-1][1].startswith("Merci")
    # the completed callback after the confirmation is absorbed, not an anomaly
    assert [e.status for e in events][-1] == "completed"


async def test_another_digit_replays_the_message_and_the_call_only_completes(tmp_path: Path) -> None:
    _, applied, record, _ = await _call(tmp_path, "press:2", confirm=True)
    assert applied[-1] == "completed"
    assert record.digits == ["2"]
    assert [text for _, text in record.spoken].count(TEXT) >= 2


async def test_a_call_without_confirmation_speaks_the_message_repeated(tmp_path: Path) -> None:
    _, applied, record, _ = await _call(tmp_path, "answer", language="en", repeat=3)
    assert applied == ["queued", "started", "ringing", "in progress", "completed"]
    assert record.spoken == [("en-US", TEXT)] * 3
    assert record.digits == []


async def test_without_a_contact_language_the_channel_language_is_used(tmp_path: Path) -> None:
    _, _, record, _ = await _call(tmp_path, "answer", language="")
    assert {lang for lang, _ in record.spoken} == {"en-GB"}


@pytest.mark.parametrize(
    ("scenario", "final", "reason"),
    [
        ("busy", "busy", ""),
        ("no-answer", "no answer", ""),
        ("failed:32009", "failed", "32009 provider error"),
        ("canceled", "failed", "canceled"),
        ("voicemail", "voicemail", "answered by machine_end_beep"),
        ("fax", "fax", "answered by a fax machine"),
    ],
)
async def test_each_call_ending_maps_onto_the_call_machine(
    tmp_path: Path, scenario: str, final: str, reason: str
) -> None:
    _, applied, record, events = await _call(tmp_path, scenario, confirm=True)
    assert applied[-1] == final
    assert CALL.is_legal_sequence(applied)
    assert next(e for e in events if e.status == final).reason == reason
    assert record.digits == []


async def test_a_voicemail_hears_the_message_once_without_the_prompt(tmp_path: Path) -> None:
    _, _, record, _ = await _call(tmp_path, "voicemail", confirm=True)
    assert record.spoken == [("fr-FR", TEXT)]


async def test_without_machine_detection_a_voicemail_looks_like_a_completed_call(tmp_path: Path) -> None:
    _, applied, _, _ = await _call(tmp_path, "voicemail", machine_detection=False)
    assert applied[-1] == "completed"


async def test_reordered_duplicated_progress_still_ends_confirmed(tmp_path: Path) -> None:
    _, applied, _, events = await _call(tmp_path, "press:1+reorder+duplicates", confirm=True)
    assert applied[-1] == "confirmed"
    statuses = [e.status for e in events]
    assert statuses.index("confirmed") < statuses.index("started")  # progress came late
    assert len(statuses) == len(set(statuses))  # each replayed callback was refused


async def test_a_script_too_long_for_the_providers_url_limit_is_refused_before_calling(
    tmp_path: Path,
) -> None:
    async with twilio_env(tmp_path) as env:
        channel = await env.started("voice")
        result = await channel.send(outbound("+33612345678", "Évacuez! " + "é" * 1000, means="call"))
        assert isinstance(result, PermanentFailure)
        assert "at most 4000 are accepted" in result.reason
        assert env.sim.creates == 0


async def test_an_empty_script_is_refused_before_calling(tmp_path: Path) -> None:
    async with twilio_env(tmp_path) as env:
        channel = await env.started("voice")
        result = await channel.send(outbound("+33612345678", "", means="call"))
        assert isinstance(result, PermanentFailure)
        assert "empty" in result.reason
        assert env.sim.creates == 0
