"""The gsm-voice channel through virtual modems: every way a call can end."""

from __future__ import annotations

import pytest

from tocsin.builtin_statuses import CALL
from tocsin.channel import Accepted, PermanentFailure
from tocsin.hal.errors import CapabilityError
from tocsin.hal.scenarios import CallFate, Scenario
from tocsin.hal.virtual_modem import virtual_modems

from .conftest import SCALE, RecordingSink, build, outbound

TERMINAL = set(CALL.terminal)
SCENARIOS = [
    Scenario("+33611*", call=CallFate.PRESS_1),
    Scenario("+33612*", call=CallFate.BUSY),
    Scenario("+33613*", call=CallFate.NO_ANSWER),
    Scenario("+33614*", call=CallFate.VOICEMAIL),
    Scenario("+33615*", call=CallFate.HANG_UP),
    Scenario("+33616*", call=CallFate.PRESS_OTHER),
    Scenario("+33617*", call=CallFate.ANSWER),
]
MESSAGE = "Alerte inondation. Appuyez sur 1 pour confirmer."


@pytest.mark.parametrize("dialect", ["simcom", "quectel"])
@pytest.mark.parametrize(
    ("number", "confirm", "statuses"),
    [
        ("+33611000001", True, ["queued", "ringing", "in progress", "confirmed"]),
        ("+33611000002", False, ["queued", "ringing", "in progress", "completed"]),
        ("+33612000001", True, ["queued", "ringing", "busy"]),
        ("+33613000001", True, ["queued", "ringing", "no answer"]),
        ("+33614000001", True, ["queued", "ringing", "in progress", "completed"]),
        ("+33615000001", True, ["queued", "ringing", "in progress", "completed"]),
        ("+33616000001", True, ["queued", "ringing", "in progress", "completed"]),
        ("+33617000001", True, ["queued", "ringing", "in progress", "completed"]),
    ],
)
async def test_calls_follow_the_call_status_machine(dialect, number, confirm, statuses):
    async with virtual_modems(1, dialects=dialect, scenarios=SCENARIOS, scale=SCALE) as (vm,):
        channel = build("gsm-voice", [vm.device], ring_timeout="60s")
        sink = RecordingSink()
        await channel.start(sink)
        try:
            result = await channel.send(outbound(1, number, MESSAGE, means="call", confirm=confirm))
            assert isinstance(result, Accepted) and result.status == "started"
            await sink.wait_terminal([1], TERMINAL)
            assert sink.statuses(1) == statuses
            assert CALL.is_legal_sequence(["queued", "started", *statuses[1:]])
            [call] = vm.calls
            assert call.number == number
            if "in progress" in statuses:
                assert call.spoken and call.spoken[0] == MESSAGE
            assert vm.call is None  # hung up: the modem is free again
        finally:
            await channel.stop()


async def test_the_message_is_repeated_and_a_digit_after_it_still_confirms():
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE) as (vm,):
        channel = build("gsm-voice", [vm.device], repeat=3)
        sink = RecordingSink()
        await channel.start(sink)
        try:
            await channel.send(outbound(2, "+33617000009", "Coupure d'eau demain.", means="call"))
            await sink.wait_terminal([2], TERMINAL)
            assert sink.last(2).status == "completed"
            assert vm.calls[0].spoken == ["Coupure d'eau demain."] * 3
        finally:
            await channel.stop()


async def test_a_language_the_modem_cannot_speak_is_said_in_the_reason():
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE) as (vm,):
        channel = build("gsm-voice", [vm.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            await channel.send(outbound(3, "+33617000003", "Bonjour", means="call", language="fr"))
            await sink.wait_terminal([3], TERMINAL)
            assert "no 'fr' voice" in sink.last(3).reason
        finally:
            await channel.stop()


@pytest.mark.parametrize(("dialect", "lacks"), [("huawei", "voice"), ("generic", "tts")])
async def test_a_modem_that_cannot_call_or_speak_is_refused_at_start(dialect, lacks):
    async with virtual_modems(1, dialects=dialect, scale=SCALE) as (vm,):
        channel = build("gsm-voice", [vm.device])
        with pytest.raises(CapabilityError, match=lacks):
            await channel.start(RecordingSink())


async def test_without_dtmf_confirmation_a_confirmation_call_is_refused_clearly():
    async with virtual_modems(1, scale=SCALE) as (vm,):
        channel = build("gsm-voice", [vm.device], confirmation=False)
        assert channel.capabilities.dtmf_confirmation is False
        assert channel.capabilities.voicemail_detection is False
        await channel.start(RecordingSink())
        try:
            result = await channel.send(outbound(4, "+33611000004", "x", means="call", confirm=True))
            assert isinstance(result, PermanentFailure) and "DTMF" in result.reason
            assert vm.calls == []
        finally:
            await channel.stop()


async def test_a_call_through_a_modem_that_vanishes_mid_call_ends_failed():
    async with virtual_modems(2, scenarios=SCENARIOS, scale=SCALE) as vms:
        channel = build("gsm-voice", [vm.device for vm in vms], max_duration="10m")
        sink = RecordingSink()
        await channel.start(sink)
        try:
            await channel.send(outbound(5, "+33617000005", "long " * 200, means="call"))
            await sink.wait_until(lambda: "in progress" in sink.statuses(5))
            busy = next(vm for vm in vms if vm.call is not None)
            busy.unplug()
            await sink.wait_terminal([5], TERMINAL)
            assert sink.last(5).status == "failed" and "modem lost" in sink.last(5).reason
            assert channel.health().state.value == "degraded"
        finally:
            await channel.stop()
