"""The modem pool over virtual modems: spreading, take-out, probing, requeueing."""

from __future__ import annotations

import asyncio
import functools

import pytest

from tocsin.hal.errors import AtError, AtTimeout
from tocsin.hal.modem import Modem
from tocsin.hal.pool import MemberState, ModemPool, NoModemAvailable, PoolSettings
from tocsin.hal.sms import SentSms, send_sms
from tocsin.hal.virtual_modem import virtual_modems

SCALE = 0.005


def make_pool(devices: list[str], **settings: float) -> ModemPool:
    options = {"rate_per_minute": 20.0, "time_scale": SCALE, "probe_interval": 10.0, **settings}
    return ModemPool(devices, functools.partial(Modem.open, timeout=5), PoolSettings(**options))  # type: ignore[arg-type]


async def test_work_is_spread_over_every_modem():
    async with virtual_modems(3, scale=SCALE) as vms:
        pool = make_pool([vm.device for vm in vms])
        await pool.start()
        try:
            results = await asyncio.gather(*(
                pool.run(functools.partial(send_sms, number=f"+3361234{i:04d}", text=f"n{i}"))
                for i in range(30)
            ))
            assert len({r.device for r in results}) == 3
            assert sorted(m.recipient for vm in vms for m in vm.messages) == \
                sorted(f"+3361234{i:04d}" for i in range(30))
            assert sum(s.jobs for s in pool.status()) == 30
        finally:
            await pool.stop()


async def test_an_unplugged_modem_is_taken_out_its_job_requeued_and_it_comes_back():
    async with virtual_modems(3, scale=SCALE) as vms:
        pool = make_pool([vm.device for vm in vms], probe_interval=20.0)
        await pool.start()
        done: list[SentSms] = []

        async def one(i: int) -> SentSms:
            result = await pool.run(functools.partial(send_sms, number=f"+3370000{i:04d}", text=f"m{i}"))
            done.append(result)
            return result

        try:
            tasks = [asyncio.create_task(one(i)) for i in range(40)]
            while len(done) < 6:
                await asyncio.sleep(0.005)
            vms[1].unplug()  # whatever it was sending is cut off
            results = await asyncio.gather(*tasks)
            assert len(results) == 40
            recipients = [m.recipient for vm in vms for m in vm.messages]
            assert set(recipients) == {f"+3370000{i:04d}" for i in range(40)}
            status = {s.device: s for s in pool.status()}
            assert status[vms[1].device].state is MemberState.OUT
            assert [d for d, _ in pool.takeouts] == [vms[1].device]
            await vms[1].start()
            await asyncio.wait_for(_until(lambda: pool.available == 3), 10)
            after = await pool.run(functools.partial(send_sms, number="+33799999999", text="back"))
            assert after.device in {vm.device for vm in vms}
        finally:
            await pool.stop()


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def test_a_modem_that_keeps_timing_out_is_taken_out_after_max_errors():
    async with virtual_modems(2, scale=SCALE) as vms:
        pool = make_pool([vm.device for vm in vms], max_errors=2)
        await pool.start()
        calls: list[str] = []

        async def flaky(modem: Modem) -> str:
            calls.append(modem.device)
            if modem.device == vms[0].device:
                raise AtTimeout("no answer")
            return modem.device

        try:
            results = [await pool.run(flaky) for _ in range(4)]
            assert results == [vms[1].device] * 4
            assert calls.count(vms[0].device) <= 2
            assert pool.status()[0].state is MemberState.OUT
        finally:
            await pool.stop()


async def test_an_error_about_the_message_propagates_and_leaves_the_modem_in():
    async with virtual_modems(1, scale=SCALE) as (vm,):
        pool = make_pool([vm.device])
        await pool.start()

        async def refused(modem: Modem) -> None:
            raise AtError("AT+CMGS=20", "CMS", 21, "short message transfer rejected")

        try:
            with pytest.raises(AtError):
                await pool.run(refused)
            assert pool.status()[0].state is MemberState.READY
        finally:
            await pool.stop()


async def test_waiting_for_a_modem_gives_up_after_the_timeout():
    async with virtual_modems(1, scale=SCALE) as (vm,):
        pool = make_pool([vm.device])
        await pool.start()
        hold = asyncio.Event()

        async def long_job(modem: Modem) -> None:
            await hold.wait()

        try:
            first = asyncio.create_task(pool.run(long_job))
            await asyncio.sleep(0.01)
            with pytest.raises(NoModemAvailable, match="no modem free in time"):
                await pool.run(long_job, timeout=0.05)
            hold.set()
            await first
        finally:
            await pool.stop()


async def test_a_pool_with_no_reachable_modem_refuses_to_start():
    pool = make_pool(["/nonexistent/ttyA", "/nonexistent/ttyB"])
    with pytest.raises(NoModemAvailable, match="ttyA.*ttyB"):
        await pool.start()


def test_a_pool_needs_distinct_devices():
    with pytest.raises(ValueError, match="twice"):
        make_pool(["/dev/a", "/dev/a"])
    with pytest.raises(ValueError, match="at least one"):
        make_pool([])


async def test_a_job_cut_off_by_stopping_the_pool_is_not_retried_forever():
    async with virtual_modems(1, scale=SCALE) as (vm,):
        pool = make_pool([vm.device])
        await pool.start()
        started = asyncio.Event()

        async def slow(modem: Modem) -> None:
            started.set()
            await modem.session.gone.wait()  # busy until the pool closes the modem
            await modem.command("AT")  # ModemGone: a modem fault, normally retried

        job = asyncio.create_task(pool.run(slow))
        await started.wait()
        await pool.stop()
        with pytest.raises(NoModemAvailable, match="stopped"):
            await asyncio.wait_for(job, 5)
