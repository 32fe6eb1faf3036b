"""Recorded messages: a call plays an audio file stored on the modem (SIMCom
``AT+CREC=4``, ``+CREC: 0`` when played) instead of the text-to-speech, over the virtual
modem; a missing file, a URL the channel cannot map and a modem without playback are
refused with their reason."""

from __future__ import annotations

import attrs
import pytest

from tocsin.builtin_statuses import CALL
from tocsin.channel import Accepted, OutboundAttempt, PermanentFailure, RenderedMessage
from tocsin.errors import ConfigError
from tocsin.hal.scenarios import CallFate, Scenario
from tocsin.hal.virtual_modem import virtual_modems

from .conftest import SCALE, RecordingSink, build, outbound

TERMINAL = set(CALL.terminal)
FLOOD = "C:\\User\\flood.amr"
SCENARIOS = [Scenario("+33611*", call=CallFate.PRESS_1), Scenario("+33617*", call=CallFate.ANSWER)]
URL = "https://town.example/audio/flood.mp3"


def recorded(attempt_id: int, number: str, audio: str, *, confirm: bool = False, text: str = "") -> OutboundAttempt:
    base = outbound(attempt_id, number, text, means="call", confirm=confirm, repeat=2)
    return attrs.evolve(base, message=RenderedMessage(text=text, audio_url=audio, repeat=2))


async def test_a_stored_file_is_played_instead_of_the_speech_and_1_still_confirms():
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE, audio_files={FLOOD: 3.0}) as (vm,):
        channel = build("gsm-voice", [vm.device], audio_files={URL: "flood.amr"}, volume=70)
        sink = RecordingSink()
        await channel.start(sink)
        try:
            assert channel.capabilities.audio is True
            # a bare name on a call that is answered and listened to
            assert isinstance(await channel.send(recorded(1, "+33617000001", "flood.amr", text="Crue")),
                              Accepted)
            await sink.wait_terminal([1], TERMINAL)
            assert sink.last(1).status == "completed"
            # the URL a cloud channel would fetch, mapped to the same file; 1 pressed
            assert isinstance(await channel.send(recorded(2, "+33611000001", URL, confirm=True)), Accepted)
            await sink.wait_terminal([2], TERMINAL)
            assert sink.last(2).status == "confirmed"
        finally:
            await channel.stop()
    listened, confirmed = vm.calls
    assert listened.played == [FLOOD, FLOOD] and listened.spoken == []  # repeated, never spoken
    assert confirmed.played[0] == FLOOD and confirmed.digits_pressed == "1"


async def test_a_file_missing_on_the_modem_fails_the_call_with_the_modems_reason():
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE, audio_files={FLOOD: 3.0}) as (vm,):
        channel = build("gsm-voice", [vm.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            await channel.send(recorded(3, "+33617000002", "storm.amr", text="Tempête"))
            await sink.wait_terminal([3], TERMINAL)
        finally:
            await channel.stop()
    failed = sink.last(3)
    assert failed.status == "failed"
    assert "audio file 'storm.amr' refused: the audio file does not exist on the modem" in failed.reason
    assert "+CME ERROR: 5008" in failed.reason
    assert vm.calls[0].played == [] and vm.call is None  # hung up, the modem is free


@pytest.mark.parametrize(
    ("audio", "reason"),
    [
        ("https://elsewhere.example/x.mp3", "is a URL, and a GSM modem plays only files stored on it: "
                                            "map it to one in channels.test-gsm-voice.audio_files"),
        ('bad"name.amr', "has a quote or a control character"),
    ],
)
async def test_audio_the_channel_cannot_name_on_the_modem_is_refused_before_dialling(audio, reason):
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE) as (vm,):
        channel = build("gsm-voice", [vm.device])
        await channel.start(RecordingSink())
        try:
            result = await channel.send(recorded(4, "+33617000003", audio, text="x"))
        finally:
            await channel.stop()
    assert isinstance(result, PermanentFailure) and reason in result.reason
    assert vm.calls == []


async def test_a_modem_that_cannot_play_files_refuses_a_recorded_message_but_still_speaks():
    async with virtual_modems(1, dialects="quectel", scenarios=SCENARIOS, scale=SCALE) as (vm,):
        channel = build("gsm-voice", [vm.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            assert channel.capabilities.audio is False
            refused = await channel.send(recorded(5, "+33617000004", "flood.amr", text="Crue"))
            spoken = await channel.send(outbound(6, "+33617000005", "Crue", means="call"))
            await sink.wait_terminal([6], TERMINAL)
        finally:
            await channel.stop()
    assert isinstance(refused, PermanentFailure)
    assert refused.reason == ("channel 'test-gsm-voice' cannot play an audio file: modem profile "
                              "'quectel' (Quectel EC25 / M35) lacks: audio")
    assert isinstance(spoken, Accepted) and [c.number for c in vm.calls] == ["+33617000005"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"volume": 101}, "channels.test-gsm-voice.volume: expected 0 to 100, got 101"),
        ({"volume": "loud"}, "channels.test-gsm-voice.volume: expected a number"),
        ({"audio_files": ["flood.amr"]}, "channels.test-gsm-voice.audio_files: expected a table"),
        ({"audio_files": {URL: 'a"b'}}, f"channels.test-gsm-voice.audio_files.{URL}: the audio file name"),
    ],
)
def test_bad_audio_configuration_is_refused_naming_the_key(options, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("?", r"\?")):
        build("gsm-voice", ["/dev/ttyUSB0"], **options)
