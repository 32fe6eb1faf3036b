"""The modem driver over virtual modems: identification, profiles, SIM, USSD, resync."""

from __future__ import annotations

import asyncio

import pytest

from tocsin.hal.errors import SimError
from tocsin.hal.modem import Modem
from tocsin.hal.ussd import decode_cusd, ussd
from tocsin.hal.virtual_modem import virtual_modems

SCALE = 0.005


@pytest.mark.parametrize(
    ("dialect", "profile", "voice"),
    [("simcom", "simcom", True), ("quectel", "quectel", True), ("huawei", "huawei", False),
     ("generic", "generic", True)],
)
async def test_the_profile_is_detected_from_the_identification(dialect, profile, voice):
    async with virtual_modems(1, dialects=dialect, scale=SCALE) as (vm,):
        modem = await Modem.open(vm.device)
        try:
            info = modem.info
            assert info is not None
            assert (info.profile, modem.profile.name) == (profile, profile)
            assert modem.profile.capabilities.voice is voice
            assert info.imei == vm.imei and info.imsi == vm.imsi
            assert info.operator == "Tocsin Mobile" and info.registered
            assert info.signal == 20 and info.signal_dbm == -73
        finally:
            await modem.close()


async def test_a_profile_can_be_forced():
    async with virtual_modems(1, dialects="generic", scale=SCALE) as (vm,):
        modem = await Modem.open(vm.device, profile="huawei")
        assert modem.profile.name == "huawei"
        await modem.close()


async def test_without_network_the_probe_says_not_registered():
    async with virtual_modems(1, scale=SCALE, network=False) as (vm,):
        modem = await Modem.open(vm.device)
        info = await modem.probe()
        assert info.registration == "not registered" and not info.registered
        assert info.signal is None and info.operator == ""
        await modem.close()


async def test_a_locked_sim_is_unlocked_with_the_configured_pin_and_refuses_a_wrong_one():
    async with virtual_modems(1, scale=SCALE, pin="2468") as (vm,):
        with pytest.raises(SimError, match="none is configured"):
            await Modem.open(vm.device)
        with pytest.raises(SimError, match="refused the configured PIN") as caught:
            await Modem.open(vm.device, pin="1111")
        assert "1111" not in str(caught.value)
        modem = await Modem.open(vm.device, pin="2468")
        assert vm.unlocked
        await modem.close()


async def test_output_left_by_an_earlier_user_of_the_port_is_discarded_at_open():
    async with virtual_modems(1, dialects="huawei", scale=1.0) as (vm,):
        first = await Modem.open(vm.device, timeout=5)
        pending = asyncio.create_task(first.command("AT+CMGL=4"))
        await asyncio.sleep(0)
        await first.close()  # its answer is still to come, to whoever opens the port next
        with pytest.raises(Exception):  # noqa: B017 - the closed session refuses
            await pending
        second = await Modem.open(vm.device, timeout=5)
        try:
            assert second.info is not None and second.info.imei == vm.imei
            assert second.info.manufacturer == "huawei"
        finally:
            await second.close()


async def test_ussd_returns_the_networks_answer():
    async with virtual_modems(1, scale=SCALE) as (vm,):
        modem = await Modem.open(vm.device)
        try:
            assert await ussd(modem, "*100#") == "Your balance is 12.34 EUR (*100#)"
            with pytest.raises(ValueError, match="not a USSD code"):
                await ussd(modem, "*100#; AT+CFUN=0")
        finally:
            await modem.close()


def test_ussd_answers_in_ucs2_are_decoded():
    assert decode_cusd('0,"00530061006C00640065",72') == "Salde"
    assert decode_cusd('0,"Solde 5 EUR",15') == "Solde 5 EUR"
    assert decode_cusd("2") == ""
