"""Calls on the driver level, including a modem that reports progress only when asked."""

from __future__ import annotations

import pytest

from tocsin.hal.errors import CapabilityError
from tocsin.hal.modem import Modem
from tocsin.hal.scenarios import CallFate, Scenario
from tocsin.hal.virtual_modem import virtual_modems
from tocsin.hal.voice import CallPlan, Outcome, Progress, place_call

SCALE = 0.005
SCENARIOS = [Scenario("+3361*", call=CallFate.ANSWER), Scenario("+3362*", call=CallFate.BUSY),
             Scenario("+3363*", call=CallFate.NO_ANSWER), Scenario("+3364*", call=CallFate.HANG_UP)]


@pytest.mark.parametrize(
    ("number", "outcome", "progress"),
    [("+33610000000", Outcome.COMPLETED, [Progress.STARTED, Progress.RINGING, Progress.ANSWERED]),
     ("+33620000000", Outcome.BUSY, [Progress.STARTED, Progress.RINGING]),
     ("+33630000000", Outcome.NO_ANSWER, [Progress.STARTED, Progress.RINGING])],
)
async def test_a_generic_modem_is_asked_for_call_progress(number, outcome, progress):
    async with virtual_modems(1, dialects="generic", scenarios=SCENARIOS, scale=SCALE) as (vm,):
        modem = await Modem.open(vm.device)
        seen: list[Progress] = []
        try:
            plan = CallPlan("ignored: no text-to-speech", ring_timeout=5, poll_interval=0.01)
            result = await place_call(modem, number, plan, seen.append)
        finally:
            await modem.close()
        assert result.outcome is outcome
        assert seen == progress
        assert vm.call is None


async def test_a_callee_hanging_up_while_the_message_plays_completes_the_call():
    async with virtual_modems(1, scenarios=SCENARIOS, scale=SCALE) as (vm,):
        modem = await Modem.open(vm.device)
        try:
            plan = CallPlan("long message " * 100, repeat=3, ring_timeout=5, max_duration=30)
            result = await place_call(modem, "+33640000000", plan, lambda p: None)
        finally:
            await modem.close()
        assert result.outcome is Outcome.COMPLETED and result.answered
        assert vm.calls[0].outcome == "hung up by callee"


async def test_a_huawei_stick_refuses_to_call():
    async with virtual_modems(1, dialects="huawei", scale=SCALE) as (vm,):
        modem = await Modem.open(vm.device)
        try:
            with pytest.raises(CapabilityError, match="voice"):
                await place_call(modem, "+33610000000", CallPlan("x"), lambda p: None)
        finally:
            await modem.close()
        assert vm.calls == []
