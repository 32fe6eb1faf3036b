"""PDU round trips: GSM-7 with the extension table, UCS-2, emoji, multipart."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from gsmmodem import pdu as gsm
from hypothesis import given
from hypothesis import strategies as st

from tocsin.hal.codes import Delivery, classify_tp_status
from tocsin.hal.pdu import (
    GSM7_CHARS,
    Alphabet,
    Deliver,
    PduError,
    StatusReport,
    Submit,
    choose_alphabet,
    decode,
    encode_deliver,
    encode_status_report,
    encode_submit,
    join_units,
    split_text,
)
from tocsin.hal.reassembly import Reassembler

GSM7_TEXT = st.text(alphabet=sorted(GSM7_CHARS), max_size=500)
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
EMOJI_TEXT = st.lists(
    st.sampled_from(["😀", "🚨", "é", "a", " ", "€", "中", "🏳️‍🌈", "👍🏽", "{", "\n"]), max_size=120
).map("".join)
NUMBER = st.from_regex(r"\+[1-9][0-9]{7,13}", fullmatch=True)
AT = dt.datetime(2026, 3, 1, 12, 30, 15, tzinfo=dt.UTC)


def submitted_text(number: str, text: str, reference: int = 9) -> tuple[str, list[Submit]]:
    parts = encode_submit(number, text, reference=reference)
    decoded = [decode(p.hex) for p in parts]
    assert all(isinstance(d, Submit) for d in decoded)
    subs = [d for d in decoded if isinstance(d, Submit)]
    return join_units("".join(s.units for s in subs)), subs


@given(NUMBER, GSM7_TEXT)
def test_gsm7_text_including_the_extension_table_round_trips(number, text):
    assert choose_alphabet(text) is Alphabet.GSM7
    back, subs = submitted_text(number, text)
    assert back == text
    assert all(s.recipient == number and s.status_report for s in subs)
    assert all(s.alphabet is Alphabet.GSM7 for s in subs)


@given(NUMBER, st.one_of(ANY_TEXT, EMOJI_TEXT))
def test_any_text_round_trips_in_gsm7_or_ucs2(number, text):
    back, subs = submitted_text(number, text)
    assert back == text
    expected = Alphabet.GSM7 if all(c in GSM7_CHARS for c in text) else Alphabet.UCS2
    assert all(s.alphabet is expected for s in subs)


@given(st.one_of(GSM7_TEXT, ANY_TEXT, EMOJI_TEXT))
def test_parts_fit_one_sms_and_never_split_an_escape_or_a_surrogate_pair(text):
    parts = encode_submit("+33612345678", text, reference=200)
    for part in parts:
        assert _ud_octets(part) <= 140
        assert part.tpdu_length == len(bytes.fromhex(part.hex)) - 1
    assert "".join(p.text for p in parts) == text  # split at character boundaries
    if len(parts) > 1:
        assert [p.concat.number for p in parts if p.concat] == list(range(1, len(parts) + 1))
        assert all(p.concat is not None and p.concat.parts == len(parts) for p in parts)


def _ud_octets(part) -> int:
    """Octets of UDH + user data in one part, recomputed from the PDU layout."""
    data = bytes.fromhex(part.hex)
    i = 1 + data[0] + 2  # SMSC, first octet, TP-MR
    i += 2 + (data[i] + 1) // 2  # address
    i += 2  # PID, DCS
    return len(data) - i - 1  # minus the UDL octet


@pytest.mark.parametrize(
    ("text", "parts"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("€" * 80, 1),
     ("€" * 81, 2), ("é" * 70, 1), ("ł" * 70, 1), ("ł" * 71, 2), ("😀" * 35, 1), ("😀" * 36, 2)],
)
def test_part_counts_follow_the_gsm7_and_ucs2_limits(text, parts):
    assert len(split_text(text)) == parts


@given(NUMBER, st.one_of(GSM7_TEXT, EMOJI_TEXT), st.randoms(use_true_random=False), st.integers(0, 255))
def test_received_parts_reassemble_in_any_order(number, text, rnd, reference):
    pdus = encode_deliver(number, text, AT, reference=reference)
    rnd.shuffle(pdus)
    reassembler = Reassembler()
    results = []
    for pdu in pdus:
        message = decode(pdu)
        assert isinstance(message, Deliver) and message.sender == number
        results.append(reassembler.add(message))
    assert results[-1] == text
    assert all(r is None for r in results[:-1])
    assert reassembler.incomplete == 0


def test_a_part_received_twice_counts_once():
    pdus = encode_deliver("+33611111111", "x" * 400, AT, reference=3)
    reassembler = Reassembler()
    assert reassembler.add(decode(pdus[0])) is None  # type: ignore[arg-type]
    assert reassembler.add(decode(pdus[0])) is None  # type: ignore[arg-type]
    assert reassembler.add(decode(pdus[1])) is None  # type: ignore[arg-type]
    assert reassembler.add(decode(pdus[2])) == "x" * 400  # type: ignore[arg-type]


@given(st.integers(0, 255), NUMBER, st.integers(0, 255))
def test_status_reports_round_trip_and_map_by_tp_status_range(reference, number, status):
    report = decode(encode_status_report(reference, number, status, AT))
    assert isinstance(report, StatusReport)
    assert (report.reference, report.recipient, report.status) == (reference, number, status)
    expected = (Delivery.DELIVERED if status < 0x20 else
                Delivery.PENDING if status < 0x40 else Delivery.FAILED)
    assert report.delivery is expected is classify_tp_status(status)


def test_deliver_keeps_the_sender_and_the_timestamp():
    message = decode(encode_deliver("+33611111111", "OUI", AT)[0])
    assert isinstance(message, Deliver)
    assert message.text == "OUI"
    assert message.sent_at is not None and message.sent_at.utcoffset() == dt.timedelta(0)
    assert message.sent_at.replace(tzinfo=None) == AT.replace(tzinfo=None)


def test_we_decode_a_pdu_produced_by_gsmmodems_own_encoder():
    [theirs] = gsm.encodeSmsSubmitPdu("+33612345678", "Alerte crue: évacuez {zone}")
    decoded = decode(str(theirs))
    assert isinstance(decoded, Submit)
    assert decoded.text == "Alerte crue: évacuez {zone}"


def test_a_trailing_at_sign_on_an_octet_boundary_is_kept():
    back, _ = submitted_text("+33612345678", "@" * 8)
    assert back == "@" * 8


@pytest.mark.parametrize("bad", ["", "zz", "0011", "07911326040000F0040B911346610089F60000208062917314"])
def test_garbage_is_refused_with_a_pdu_error(bad):
    with pytest.raises(PduError):
        decode(bad)


def test_a_bad_number_or_reference_is_refused_before_encoding():
    with pytest.raises(ValueError, match="not a phone number"):
        encode_submit("+33 6 12", "hi")
    with pytest.raises(ValueError, match="reference"):
        encode_submit("+33612345678", "hi", reference=300)


def test_random_unicode_sample_round_trips():
    rnd = random.Random(7)
    text = "".join(chr(rnd.choice([rnd.randint(0x20, 0x7E), rnd.randint(0xA0, 0xD7FF),
                                   rnd.randint(0x1F300, 0x1FAFF)])) for _ in range(500))
    back, subs = submitted_text("+4915112345678", text)
    assert back == text and len(subs) > 1
