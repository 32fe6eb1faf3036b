"""The delivery tracker against a model: any order of part reports gives the verdict the
rules say, and the durable key written at send time is the one a status report decoded
from the network's PDU produces, for any number and reference."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from tocsin.hal.pdu import StatusReport, decode, encode_status_report
from tocsin.plugins.gsm.tracking import DeliveryTracker, durable_key

AT = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
numbers = st.from_regex(r"\+[1-9][0-9]{7,13}", fullmatch=True)
statuses = st.sampled_from([0x00, 0x01, 0x20, 0x21, 0x41, 0x46, 0x60, 0x65])  # ok, pending, failed


@given(number=numbers, reference=st.integers(0, 255), status=statuses, sim=st.from_regex(r"[0-9]{15}",
                                                                                         fullmatch=True))
def test_the_key_sent_is_the_key_the_decoded_report_gives(number, reference, status, sim):
    report = decode(encode_status_report(reference, number, status, AT))
    assert isinstance(report, StatusReport)
    assert durable_key(sim, report.reference, report.recipient) == durable_key(sim, reference, number)


@given(
    reports=st.lists(st.tuples(st.integers(1, 4), statuses), max_size=12),
    parts=st.integers(1, 4),
    early=st.booleans(),
)
def test_a_message_is_received_when_every_part_is_and_undelivered_at_the_first_failure(reports, parts, early):
    tracker = DeliveryTracker()
    message = tracker.expect(7, parts)
    refs = {index: 100 + index for index in range(1, parts + 1)}
    reports = [(i, s) for i, s in reports if i <= parts]
    verdicts = []
    sent_parts = list(refs.items())
    if early:  # reports overtake the +CMGS lines: kept, applied when the part is recorded
        for index, status in reports:
            verdicts.append(tracker.report("dev", StatusReport(refs[index], "+33600000001", status)))
        for index, ref in sent_parts:
            verdicts.append(tracker.part_sent(message, "dev", index, ref))
    else:
        for index, ref in sent_parts:
            verdicts.append(tracker.part_sent(message, "dev", index, ref))
        for index, status in reports:
            verdicts.append(tracker.report("dev", StatusReport(refs[index], "+33600000001", status)))
    final = [v for v in verdicts if v is not None]
    # the model: the first final report decides "undelivered"; "received" needs every part
    delivered: set[int] = set()
    expected = None
    for index, status in (reports if not early else _last_per_part(reports)):
        if status in (0x20, 0x21):
            continue
        if status >= 0x40:
            expected = "undelivered"
            break
        delivered.add(index)
        if len(delivered) == parts:
            expected = "received"
            break
    assert [v.status for v in final] == ([expected] if expected else [])
    assert all(v.attempt_id == 7 for v in final)
    if expected:
        assert tracker.waiting == 0


def _last_per_part(reports: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Early reports are kept one per reference (the newest), applied in part order."""
    last = dict(reports)
    return sorted(last.items())


def test_reports_after_the_verdict_change_nothing_until_the_reference_comes_round_again():
    tracker = DeliveryTracker()
    first = tracker.expect(1, 2)
    tracker.part_sent(first, "dev", 1, 5)
    tracker.part_sent(first, "dev", 2, 6)
    verdict = tracker.report("dev", StatusReport(5, "+33600000001", 0x41))
    assert verdict is not None and (verdict.attempt_id, verdict.status) == (1, "undelivered")
    # the other part's report, and a repeated one, are known and change nothing
    assert tracker.report("dev", StatusReport(6, "+33600000001", 0x00)) is None
    assert tracker.knows("dev", 6) and tracker.report("dev", StatusReport(5, "+33600000001", 0x41)) is None
    # 256 messages later the modem gives reference 5 to another message: it counts again
    second = tracker.expect(2, 1)
    tracker.part_sent(second, "dev", 1, 5)
    verdict = tracker.report("dev", StatusReport(5, "+33600000002", 0x00))
    assert verdict is not None and (verdict.attempt_id, verdict.status) == (2, "received")
    assert not tracker.knows("dev", 99)
