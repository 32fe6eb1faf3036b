"""Timer work of several alerts interleaves: an alert sent while another fans out to a
large audience is handed over at once, not after the other's whole fan-out."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tocsin.app import Tocsin
from tocsin.model import Alert, Message
from tocsin.store.schema import attempts

from .conftest import add_group, make_config, person

SMS = {"text": {"type": "console", "means": "sms", "output": "none", "concurrency": 20}}


def _written(app: Tocsin, alert_id: int) -> int:
    with app.store.engine.connect() as conn:
        query = select(func.count()).select_from(attempts).where(attempts.c.alert_id == alert_id)
        return int(conn.execute(query).scalar_one())


async def test_an_alert_sent_during_a_large_fan_out_is_handed_over_before_that_fan_out_ends(
    db_url: str, tmp_path: Path
) -> None:
    app = Tocsin(make_config(db_url, tmp_path, SMS), engine={"page": 20, "first_page": 20, "poll": 0.05})
    async with app:
        add_group(app, "city", [person(i, email=False) for i in range(1, 1501)])
        add_group(app, "mayor", [person(9999, email=False)])
        big = await app.send(Alert("Flood", [Message("sms", text="Flood")], reminder_offsets=()), groups=["city"])
        seen: dict[str, int] = {}
        channel: Any = app.engine.channels["text"]
        real_send = channel.send
        small_id: list[int] = []

        async def send(outbound: Any) -> Any:
            if outbound.attempt.alert_id in small_id and "big" not in seen:
                seen["big"] = _written(app, int(big.id or 0))
            return await real_send(outbound)

        channel.send = send
        while _written(app, int(big.id or 0)) == 0:  # the big fan-out is under way
            await asyncio.sleep(0.01)
        small = await app.send(Alert("Mayor", [Message("sms", text="Call me")], reminder_offsets=()),
                               groups=["mayor"])
        small_id.append(int(small.id or 0))
        await app.wait_finished(int(small.id or 0), timeout=60)
        await app.wait_finished(int(big.id or 0), timeout=120)
        assert 0 < seen["big"] < 1500, "the small alert waited for the whole fan-out of the big one"
        assert _written(app, int(big.id or 0)) == 1500
