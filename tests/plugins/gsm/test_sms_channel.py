"""The gsm-sms channel through virtual modems: statuses, errors, multipart, replies."""

from __future__ import annotations

import asyncio
import re

import pytest

from tocsin.builtin_statuses import SMS
from tocsin.channel import Accepted, Channel, PermanentFailure, TemporaryFailure
from tocsin.errors import ConfigError
from tocsin.hal.errors import CapabilityError
from tocsin.hal.scenarios import Scenario, SmsFate
from tocsin.hal.virtual_modem import virtual_modems

from .conftest import SCALE, RecordingSink, build, outbound

TERMINAL = set(SMS.terminal)
SCENARIOS = [
    Scenario("+3360000*", sms=SmsFate.UNDELIVERED, report_status=0x43),
    Scenario("+3360001*", cms_error=21),
    Scenario("+3360002*", cms_error=42),
    Scenario("+3360003*", sms=SmsFate.LATE),
]


async def test_a_delivered_sms_goes_through_queued_sending_sent_received():
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device])
        assert isinstance(channel, Channel)
        sink = RecordingSink()
        await channel.start(sink)
        try:
            result = await channel.send(outbound(1, "+33612345678", "Alerte crue: évacuez"))
            assert isinstance(result, Accepted) and result.status == "sent"
            assert result.provider_ref == f"{vm.imsi}:0:33612345678"  # SIM, reference, recipient
            await sink.wait_terminal([1], TERMINAL)
            assert sink.statuses(1) == ["queued", "sending", "received"]
            assert SMS.is_legal_sequence(["queued", "sending", "sent", "received"])
            assert [(m.recipient, m.text) for m in vm.messages] == [("+33612345678", "Alerte crue: évacuez")]
        finally:
            await channel.stop()


async def test_an_undelivered_report_says_why():
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            assert isinstance(await channel.send(outbound(2, "+33600000001", "x")), Accepted)
            await sink.wait_terminal([2], TERMINAL)
            last = sink.last(2)
            assert last.status == "undelivered"
            assert "0x43" in last.reason and "not obtainable" in last.reason
        finally:
            await channel.stop()


async def test_a_still_trying_report_changes_nothing_until_the_final_one():
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            await channel.send(outbound(3, "+33600030000", "late"))
            await sink.wait_terminal([3], TERMINAL)
            assert sink.statuses(3) == ["queued", "sending", "received"]
        finally:
            await channel.stop()


async def test_cms_errors_fail_the_attempt_with_their_meaning():
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            refused = await channel.send(outbound(4, "+33600010000", "x"))
            assert isinstance(refused, PermanentFailure)
            assert refused.code == "21" and "short message transfer rejected" in refused.reason
            congested = await channel.send(outbound(5, "+33600020000", "x"))
            assert isinstance(congested, PermanentFailure)  # once queued, a failure is final
            assert congested.code == "42" and "congestion" in congested.reason
            assert "temporary" in congested.reason
            assert vm.messages == []
        finally:
            await channel.stop()


async def test_a_multipart_unicode_message_is_received_only_when_every_part_is():
    text = "🚨 Alerte inondation — quartier des Rives, évacuez vers le gymnase. " * 3
    async with virtual_modems(1, scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            result = await channel.send(outbound(6, "+33612345678", text))
            assert isinstance(result, Accepted)
            assert result.provider_ref == f"{vm.imsi}:3:33612345678"  # the last part's reference
            await sink.wait_terminal([6], TERMINAL)
            assert sink.statuses(6).count("received") == 1
            assert vm.messages[0].text == text and len(vm.messages[0].references) == 4
            assert channel.tracker.waiting == 0
        finally:
            await channel.stop()


async def test_a_reply_reaches_the_sink_tagged_with_the_last_attempt_to_that_number():
    async with virtual_modems(1, scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            await channel.send(outbound(7, "+33612345678", "Répondez OUI pour confirmer"))
            vm.receive_sms("+33612345678", "OUI")
            vm.receive_sms("+33699999999", "STOP " + "x" * 200)
            await sink.wait_until(lambda: len(sink.inbound_messages) == 2)
            by_sender = {m.sender: m for m in sink.inbound_messages}
            assert by_sender["+33612345678"].text == "OUI"
            assert by_sender["+33612345678"].attempt_id == 7
            assert by_sender["+33612345678"].channel == "test-gsm-sms"
            assert by_sender["+33699999999"].text == "STOP " + "x" * 200
            assert by_sender["+33699999999"].attempt_id is None
            # the driver reads, reports, then deletes: the deletion is one more AT round trip
            async with asyncio.timeout(10):
                while vm.inbox:
                    await asyncio.sleep(0.01)
            assert vm.inbox == {}  # read and deleted
        finally:
            await channel.stop()


async def test_bad_addresses_and_texts_are_refused_before_any_modem_is_used():
    async with virtual_modems(1, scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device])
        await channel.start(RecordingSink())
        try:
            for number, text, why in [("0612345678", "x", "E.164"), ("+33612345678", "", "empty"),
                                      ("+33612345678", "x" * 2000, "at most")]:
                result = await channel.send(outbound(8, number, text))
                assert isinstance(result, PermanentFailure) and why in result.reason
            assert vm.messages == []
        finally:
            await channel.stop()


async def test_a_sim_pin_comes_from_the_configuration_and_a_missing_one_is_refused_at_start(monkeypatch):
    async with virtual_modems(1, scale=SCALE, pin="4321") as (vm,):
        without = build("gsm-sms", [vm.device])
        with pytest.raises(Exception, match="no modem could be opened.*PIN"):
            await without.start(RecordingSink())
        channel = build("gsm-sms", [vm.device], pin="4321")
        sink = RecordingSink()
        await channel.start(sink)
        try:
            await channel.send(outbound(9, "+33612345678", "ok"))
            await sink.wait_terminal([9], TERMINAL)
            assert sink.last(9).status == "received"
        finally:
            await channel.stop()


async def test_a_modem_that_loses_the_network_is_taken_out_and_then_sends_fail_temporarily():
    async with virtual_modems(1, scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device], queue_timeout="2s", max_errors=1)
        await channel.start(RecordingSink())
        vm.network = False
        try:
            result = await channel.send(outbound(10, "+33612345678", "x"))
            assert isinstance(result, PermanentFailure) and result.code == "no-modem"
            assert "no modem free in time" in result.reason
            assert re.search("no network service|not registered on the network", result.reason)
            assert channel.health().state.value == "down"
            later = await channel.send(outbound(11, "+33612345678", "x"))
            assert isinstance(later, TemporaryFailure) and "no modem in service" in later.reason
        finally:
            await channel.stop()


async def test_a_modem_not_registered_is_kept_out_until_it_finds_the_network():
    async with virtual_modems(2, scale=SCALE) as (searching, ready):
        searching.network = False
        lonely = build("gsm-sms", [searching.device])
        with pytest.raises(Exception, match="not registered on the network"):
            await lonely.start(RecordingSink())
        channel = build("gsm-sms", [searching.device, ready.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            assert channel.health().state.value == "degraded"
            assert "not registered" in channel.health().data[searching.device]["reason"]
            searching.network = True  # registered now: the next probe puts it in

            async def back() -> None:
                while channel.health().state.value != "ok":
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(back(), 10)
        finally:
            await channel.stop()


async def test_health_lists_every_modem():
    async with virtual_modems(2, scale=SCALE) as vms:
        channel = build("gsm-sms", [vm.device for vm in vms])
        assert channel.health().state.value == "down"
        await channel.start(RecordingSink())
        try:
            health = channel.health()
            assert health.state.value == "ok"
            assert set(health.data) == {vm.device for vm in vms}
            assert all(v["operator"] == "Tocsin Mobile" for v in health.data.values())
        finally:
            await channel.stop()


@pytest.mark.parametrize(
    ("options", "key"),
    [({"pin": "12"}, "pin"), ({"profile": "nokia"}, "profile"),
     ({"rate_per_minute": "fast"}, "rate_per_minute"), ({"routes": {"33": "Orange"}}, "routes"),
     ({"colour": "red"}, "colour"), ({"probe_interval": "soon"}, "probe_interval"),
     ({"status_reports": "yes"}, "status_reports")],
)
def test_bad_configuration_is_refused_naming_the_key(options, key):
    with pytest.raises(ConfigError, match=key):
        build("gsm-sms", ["/dev/ttyUSB0"], **options)


@pytest.mark.parametrize("devices", [[], ["/dev/ttyUSB0", "/dev/ttyUSB0"], [""], "  "])
def test_a_channel_without_usable_devices_is_refused(devices):
    with pytest.raises(ConfigError, match="devices"):
        build("gsm-sms", devices)


def test_the_pin_never_appears_in_a_configuration_error():
    with pytest.raises(ConfigError) as caught:
        build("gsm-sms", ["/dev/ttyUSB0"], pin="12a45")
    assert "12a45" not in str(caught.value)


async def test_a_missing_port_is_refused_at_start_with_its_name():
    channel = build("gsm-sms", ["/nonexistent/ttyUSB9"])
    with pytest.raises(Exception, match="/nonexistent/ttyUSB9"):
        await channel.start(RecordingSink())


async def test_routes_prefer_the_modem_on_the_recipients_operator():
    async with virtual_modems(2, scale=SCALE) as vms:
        vms[0].operator, vms[1].operator = "Orange F", "SFR"
        channel = build("gsm-sms", [vm.device for vm in vms], routes={"+3361": "SFR", "+3362": "Orange F"})
        sink = RecordingSink()
        await channel.start(sink)
        try:
            for i in range(4):
                await channel.send(outbound(20 + i, f"+3361000000{i}", "sfr"))
                await channel.send(outbound(30 + i, f"+3362000000{i}", "orange"))
            assert {m.recipient[:5] for m in vms[1].messages} == {"+3361"}
            assert {m.recipient[:5] for m in vms[0].messages} == {"+3362"}
        finally:
            await channel.stop()


async def test_a_huawei_stick_sends_sms_and_its_chatter_does_not_disturb_responses():
    async with virtual_modems(1, dialects="huawei", scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device])
        sink = RecordingSink()
        await channel.start(sink)
        try:
            await channel.send(outbound(40, "+33612345678", "x" * 400))
            await sink.wait_terminal([40], TERMINAL)
            assert sink.last(40).status == "received"
        finally:
            await channel.stop()


async def test_a_channel_that_wants_delivery_reports_refuses_a_modem_without_them(monkeypatch):
    import attrs

    from tocsin.hal import profiles

    no_reports = attrs.evolve(profiles.HUAWEI, capabilities=attrs.evolve(
        profiles.HUAWEI.capabilities, delivery_reports=False))
    monkeypatch.setitem(profiles.PROFILES, "huawei", no_reports)
    async with virtual_modems(1, dialects="huawei", scale=SCALE) as (vm,):
        channel = build("gsm-sms", [vm.device], profile="huawei")
        with pytest.raises(CapabilityError, match="delivery_reports"):
            await channel.start(RecordingSink())
        quiet = build("gsm-sms", [vm.device], profile="huawei", status_reports=False)
        await quiet.start(RecordingSink())
        await quiet.stop()


def test_a_port_shared_by_two_gsm_channels_is_refused_by_the_configuration():
    from tocsin.config import build_config
    from tocsin.plugins.gsm.plugin import tocsin_configure

    config = build_config({"channels": {
        "sms": {"type": "gsm-sms", "devices": ["/dev/tocsin/a", "/dev/tocsin/b"]},
        "calls": {"type": "gsm-voice", "devices": ["/dev/tocsin/b"]},
        "mail": {"type": "smtp", "host": "localhost"},
    }})
    with pytest.raises(ConfigError, match="/dev/tocsin/b.*sms, calls"):
        tocsin_configure(config)
    tocsin_configure(build_config({"channels": {"sms": {"type": "gsm-sms", "devices": ["/dev/a"]}}}))
