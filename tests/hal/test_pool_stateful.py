"""The pool against a model: modems pulled and plugged back at random moments while
messages flow. Every message reaches the network; a message goes out twice only when a
cable was pulled after the network took it but before ``+CMGS`` reached the host (the
pool then tries it on another modem: at least once, never lost)."""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tocsin.hal.modem import Modem
from tocsin.hal.pool import ModemPool, PoolSettings
from tocsin.hal.sms import SentSms, send_sms
from tocsin.hal.virtual_modem import VirtualModem

SCALE = 0.002
MODEMS = 3


class PoolMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.vms = [VirtualModem(scale=SCALE) for _ in range(MODEMS)]
        for vm in self.vms:
            self.loop.run_until_complete(vm.start())
        self.pool = ModemPool(
            [vm.device for vm in self.vms], functools.partial(Modem.open, timeout=5),
            PoolSettings(rate_per_minute=600, time_scale=SCALE, probe_interval=5),
        )
        self.loop.run_until_complete(self.pool.start())
        self.submitted: list[str] = []  # the model: every number handed to the pool
        self.pulls = 0
        self.tasks: list[asyncio.Task[SentSms]] = []
        self.numbers = (f"+3377{n:07d}" for n in itertools.count())

    def teardown(self) -> None:
        try:
            for task in self.tasks:
                task.cancel()
            self.loop.run_until_complete(self.pool.stop())
            for vm in self.vms:
                self.loop.run_until_complete(vm.stop())
            leftovers = asyncio.all_tasks(self.loop)
            for task in leftovers:
                task.cancel()
            if leftovers:
                self.loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        finally:
            self.loop.close()

    def _spin(self, seconds: float) -> None:
        self.loop.run_until_complete(asyncio.sleep(seconds))

    @rule(count=st.integers(1, 6))
    def hand_messages_to_the_pool(self, count: int) -> None:
        for _ in range(count):
            number = next(self.numbers)
            self.submitted.append(number)
            job = functools.partial(send_sms, number=number, text=f"to {number}")
            self.tasks.append(self.loop.create_task(self.pool.run(job)))
        self._spin(0)

    @rule(which=st.integers(0, MODEMS - 1), after=st.sampled_from([0.0, 0.001, 0.003, 0.006]))
    def pull_a_cable(self, which: int, after: float) -> None:
        async def pull() -> None:
            await asyncio.sleep(after)  # somewhere in the middle of what the modem does
            if self.vms[which].plugged:
                self.pulls += 1
            self.vms[which].unplug()

        self.loop.run_until_complete(pull())

    @precondition(lambda self: any(not vm.plugged for vm in self.vms))
    @rule(which=st.integers(0, MODEMS - 1))
    def plug_a_cable_back(self, which: int) -> None:
        unplugged = [vm for vm in self.vms if not vm.plugged]
        self.loop.run_until_complete(unplugged[which % len(unplugged)].start())

    @rule()
    def let_time_pass(self) -> None:
        self._spin(0.01)

    @invariant()
    def nothing_failed_and_a_duplicate_needs_a_pulled_cable(self) -> None:
        for task in self.tasks:
            if task.done():
                assert task.exception() is None, task.exception()
        sent = collections.Counter(m.recipient for vm in self.vms for m in vm.messages)
        assert sum(n - 1 for n in sent.values()) <= self.pulls, (self.pulls, sent.most_common(3))
        assert set(sent) <= set(self.submitted)

    @rule()
    def everything_plugged_in_everything_goes_out(self) -> None:
        for vm in self.vms:
            if not vm.plugged:
                self.loop.run_until_complete(vm.start())

        async def all_done() -> None:
            if self.tasks:
                await asyncio.wait_for(asyncio.gather(*self.tasks), 20)

        self.loop.run_until_complete(all_done())
        delivered = {m.recipient for vm in self.vms for m in vm.messages}
        assert delivered == set(self.submitted)
        assert {t.result().device for t in self.tasks} <= {vm.device for vm in self.vms}


TestPoolAgainstItsModel = PoolMachine.TestCase
TestPoolAgainstItsModel.settings = settings(max_examples=20, stateful_step_count=15, deadline=None)
