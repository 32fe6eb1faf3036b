"""How the applier cuts a batch into lanes: whole attempts, events in their order."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from tocsin.engine.applier import LANE_MIN, _lanes
from tocsin.model import StatusEvent

AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _batch(ids: list[int]) -> list[tuple[int, StatusEvent]]:
    return [(aid, StatusEvent(f"s{i}", AT, attempt_id=aid)) for i, aid in enumerate(ids)]


@given(ids=st.lists(st.integers(1, 500), min_size=1, max_size=3 * LANE_MIN), count=st.integers(1, 4))
def test_lanes_hold_whole_attempts_in_order_and_lose_nothing(ids: list[int], count: int) -> None:
    batch = _batch(ids)
    lanes = _lanes(batch, count)
    assert sorted(pair[1].status for lane in lanes for pair in lane) == sorted(p[1].status for p in batch)
    assert len(lanes) <= count and all(lanes)
    owner: dict[int, int] = {}
    for n, lane in enumerate(lanes):
        for aid, _ in lane:
            assert owner.setdefault(aid, n) == n  # an attempt lives in one lane
        # each lane keeps the batch's order
        positions = [int(e.status[1:]) for _, e in lane]
        assert positions == sorted(positions)
    # lanes are ranges of neighbouring ids, in order
    spans = [(min(a for a, _ in lane), max(a for a, _ in lane)) for lane in lanes]
    assert all(hi < lo for (_, hi), (lo, _) in itertools.pairwise(spans))


def test_a_small_batch_or_a_single_lane_stays_whole() -> None:
    small = _batch(list(range(LANE_MIN - 1)))
    assert _lanes(small, 2) == [small]
    large = _batch(list(range(LANE_MIN)))
    assert _lanes(large, 1) == [large]
    assert [len(lane) for lane in _lanes(large, 2)] == [LANE_MIN // 2, LANE_MIN // 2]
