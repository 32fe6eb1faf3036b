"""SMS PDUs (TS 23.040) built on the gsmmodem library's codec.

From ``gsmmodem.pdu`` we take what it does well: the GSM-7 default and extension
tables (``encodeGsm7``), septet packing with fill bits (``packSeptets``), semi-octet
numbers (``encodeSemiOctets``), the concatenation information element
(``Concatenation``) and the decoder of SMS-DELIVER, SMS-SUBMIT and SMS-STATUS-REPORT
(``decodeSmsPdu``). We do ourselves what it gets wrong: UCS-2 outside the Basic
Multilingual Plane (emoji are sent as UTF-16 surrogate pairs, never split between
parts), splitting that never separates an escape sequence or a surrogate pair, and
the encoders of SMS-DELIVER and SMS-STATUS-REPORT the virtual modem needs.
"""

from __future__ import annotations

import datetime as dt
import enum

from attrs import frozen
from gsmmodem import pdu as gsm
from gsmmodem.exceptions import EncodingError

from tocsin.hal.codes import Delivery, classify_tp_status

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


class Alphabet(enum.IntEnum):
    """Data coding scheme of a message (the TP-DCS octet)."""

    GSM7 = 0x00
    UCS2 = 0x08


class PduError(ValueError):
    """A PDU could not be decoded; the message says why."""


@frozen
class Concat:
    """The concatenation header of one part: message reference, part count, part number."""

    reference: int
    parts: int
    number: int


@frozen
class SubmitPdu:
    """One SMS-SUBMIT ready for ``AT+CMGS=<tpdu_length>``."""

    hex: str
    tpdu_length: int
    text: str
    concat: Concat | None = None


@frozen
class Deliver:
    """A received SMS (SMS-DELIVER). ``units`` keeps UCS-2 code units unjoined so that
    parts are joined before surrogate pairs are."""

    sender: str
    units: str
    sent_at: dt.datetime | None
    concat: Concat | None = None
    alphabet: Alphabet = Alphabet.GSM7

    @property
    def text(self) -> str:
        return join_units(self.units)


@frozen
class Submit:
    """A decoded SMS-SUBMIT (what the virtual modem receives)."""

    recipient: str
    units: str
    concat: Concat | None
    status_report: bool
    alphabet: Alphabet

    @property
    def text(self) -> str:
        return join_units(self.units)


@frozen
class StatusReport:
    """A decoded SMS-STATUS-REPORT: the reference ``+CMGS`` returned, and the outcome."""

    reference: int
    recipient: str
    status: int
    delivered_at: dt.datetime | None = None

    @property
    def delivery(self) -> Delivery:
        return classify_tp_status(self.status)


# -- text ---------------------------------------------------------------------------------


def join_units(units: str) -> str:
    """Join UTF-16 surrogate pairs decoded as separate code units into characters."""
    return units.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "replace")


def _utf16_units(text: str) -> list[str]:
    """``text`` as UTF-16 code units (a character outside the BMP becomes two)."""
    raw = text.encode("utf-16-be", "surrogatepass")
    return [raw[i : i + 2].decode("utf-16-be", "surrogatepass") for i in range(0, len(raw), 2)]


GSM7_CHARS = frozenset(gsm.GSM7_BASIC.replace("\x1b", "")) | (
    frozenset(gsm.GSM7_EXTENDED) - {"\xff"}
)
"""Characters GSM-7 carries faithfully: the default table without its escape code and
the extension table without gsmmodem's stray U+00FF entry (it cannot decode it)."""


def choose_alphabet(text: str) -> Alphabet:
    """GSM-7 when every character is in its default or extension table, else UCS-2."""
    return Alphabet.GSM7 if all(c in GSM7_CHARS for c in text) else Alphabet.UCS2


def _septets(char: str) -> int:
    return 2 if char in gsm.GSM7_EXTENDED else 1


def split_text(text: str, alphabet: Alphabet | None = None) -> list[str]:
    """The texts of the parts ``text`` is sent in (one when it fits a single SMS).

    A GSM-7 escape sequence and a UTF-16 surrogate pair are never split.
    """
    alphabet = choose_alphabet(text) if alphabet is None else alphabet
    if alphabet is Alphabet.GSM7:
        sizes = [_septets(c) for c in text]
        if sum(sizes) <= GSM7_SINGLE:
            return [text]
        limit = GSM7_PART
    else:
        sizes = [len(_utf16_units(c)) for c in text]
        if sum(sizes) <= UCS2_SINGLE:
            return [text]
        limit = UCS2_PART
    parts: list[str] = []
    start, used = 0, 0
    for i, size in enumerate(sizes):
        if used + size > limit:
            parts.append(text[start:i])
            start, used = i, 0
        used += size
    parts.append(text[start:])
    return parts


# -- encoding -----------------------------------------------------------------------------


def _address(number: str) -> bytes:
    """A TP-DA / TP-OA address field: international when it starts with ``+``."""
    digits = number[1:] if number.startswith("+") else number
    if not digits.isdigit() or not 1 <= len(digits) <= 20:
        raise ValueError(f"{number!r} is not a phone number (digits, optionally after '+')")
    toa = 0x91 if number.startswith("+") else 0x81
    return bytes([len(digits), toa]) + bytes(gsm.encodeSemiOctets(digits))


def _user_data(text: str, alphabet: Alphabet, concat: Concat | None) -> tuple[int, bytes]:
    """(TP-UDL, UDH + UD) for ``text``."""
    udh = b""
    if concat is not None:
        ie = gsm.Concatenation()
        ie.reference, ie.parts, ie.number = concat.reference, concat.parts, concat.number
        ie_bytes = bytes(ie.encode())
        udh = bytes([len(ie_bytes)]) + ie_bytes
    if alphabet is Alphabet.GSM7:
        septets = gsm.encodeGsm7(text)
        # gsmmodem's packSeptets takes the bit offset the header leaves, not the fill count
        offset = (len(udh) * 8) % 7
        packed = bytes(gsm.packSeptets(septets, padBits=offset))
        header_septets = -(-len(udh) * 8 // 7)
        return len(septets) + header_septets, udh + packed
    body = text.encode("utf-16-be", "surrogatepass")
    return len(udh) + len(body), udh + body


def encode_submit(
    number: str, text: str, *, reference: int = 0, status_report: bool = True,
    alphabet: Alphabet | None = None,
) -> list[SubmitPdu]:
    """The SMS-SUBMIT PDUs sending ``text`` to ``number``: one per part, each asking
    for a status report; ``reference`` (0-255) ties the parts of a long message."""
    if not 0 <= reference <= 0xFF:
        raise ValueError(f"concatenation reference must be 0-255, got {reference}")
    alphabet = choose_alphabet(text) if alphabet is None else alphabet
    parts = split_text(text, alphabet)
    out: list[SubmitPdu] = []
    for index, part in enumerate(parts, start=1):
        concat = Concat(reference, len(parts), index) if len(parts) > 1 else None
        first = 0x01 | (0x20 if status_report else 0) | (0x40 if concat else 0)
        udl, ud = _user_data(part, alphabet, concat)
        tpdu = bytes([first, 0x00]) + _address(number) + bytes([0x00, int(alphabet), udl]) + ud
        out.append(SubmitPdu(("00" + tpdu.hex()).upper(), len(tpdu), part, concat))
    return out


def _timestamp(at: dt.datetime) -> bytes:
    """A TP-SCTS: semi-octet date and time with the zone in quarter hours."""
    offset = at.utcoffset() or dt.timedelta(0)
    quarters = int(abs(offset.total_seconds()) // 900)
    digits = at.strftime("%y%m%d%H%M%S") + f"{quarters:02d}"
    stamp = bytearray(gsm.encodeSemiOctets(digits))
    if offset < dt.timedelta(0):
        stamp[-1] |= 0x08
    return bytes(stamp)


def encode_deliver(sender: str, text: str, at: dt.datetime, *, reference: int = 0) -> list[str]:
    """SMS-DELIVER PDUs (hex, with an empty SMSC field) of an SMS from ``sender``."""
    alphabet = choose_alphabet(text)
    parts = split_text(text, alphabet)
    out: list[str] = []
    for index, part in enumerate(parts, start=1):
        concat = Concat(reference, len(parts), index) if len(parts) > 1 else None
        first = 0x04 | (0x40 if concat else 0)  # SMS-DELIVER, no more messages to send
        udl, ud = _user_data(part, alphabet, concat)
        tpdu = bytes([first]) + _address(sender) + bytes([0x00, int(alphabet)])
        tpdu += _timestamp(at) + bytes([udl]) + ud
        out.append(("00" + tpdu.hex()).upper())
    return out


def encode_status_report(reference: int, recipient: str, status: int, at: dt.datetime) -> str:
    """An SMS-STATUS-REPORT PDU (hex, empty SMSC field) for message ``reference``."""
    tpdu = bytes([0x06, reference & 0xFF]) + _address(recipient)
    tpdu += _timestamp(at) + _timestamp(at) + bytes([status & 0xFF])
    return ("00" + tpdu.hex()).upper()


# -- decoding -----------------------------------------------------------------------------


def _concat(fields: dict[str, object]) -> Concat | None:
    for ie in fields.get("udh") or ():  # type: ignore[attr-defined]
        if isinstance(ie, gsm.Concatenation):
            return Concat(int(ie.reference), int(ie.parts), int(ie.number))
    return None


@frozen
class _Layout:
    first: int
    dcs: int
    udl: int
    udh_octets: int


def _layout(data: bytes) -> _Layout:
    """Where the fields of a DELIVER or SUBMIT lie (to check the codec's user data)."""
    i = 1 + data[0]  # skip the SMSC field
    first = data[i]
    i += 1
    submit = first & 0x03 == 0x01
    if submit:
        i += 1  # TP-MR
    digits = data[i]
    i += 2 + (digits + 1) // 2
    dcs = data[i + 1]
    i += 2
    if submit:
        vpf = (first >> 3) & 0x03
        i += {0: 0, 2: 1}.get(vpf, 7)
    else:
        i += 7  # TP-SCTS
    udl = data[i]
    udh_octets = data[i + 1] + 1 if first & 0x40 else 0
    return _Layout(first, dcs, udl, udh_octets)


def _restore_trailing_at(units: str, layout: _Layout) -> str:
    """gsmmodem's unpacker drops a last septet of value 0 ('@') when it falls on an
    octet boundary; TP-UDL says how many septets there are, so we put it back."""
    expected = layout.udl - (-(-layout.udh_octets * 8 // 7))
    try:
        have = len(gsm.encodeGsm7(units))
    except ValueError:
        return units
    return units + "@" * (expected - have) if 0 < expected - have <= 1 else units


def decode(hex_pdu: str) -> Deliver | Submit | StatusReport:
    """Decode a PDU as ``+CMT``, ``+CMGR``, ``+CDS`` or ``AT+CMGS`` carry it."""
    text = hex_pdu.strip()
    try:
        fields = gsm.decodeSmsPdu(text)
    except (EncodingError, StopIteration, ValueError, IndexError, KeyError) as exc:
        raise PduError(f"cannot decode PDU {text[:40]!r}...: {exc}") from exc
    kind = fields.get("type")
    if kind == "SMS-STATUS-REPORT":
        return StatusReport(
            reference=int(fields["reference"]),
            recipient=str(fields.get("number") or ""),
            status=int(fields["status"]),
            delivered_at=fields.get("discharge"),
        )
    layout = _layout(bytes.fromhex(text))
    alphabet = Alphabet.UCS2 if layout.dcs & 0x0C == 0x08 else Alphabet.GSM7
    units = str(fields.get("text") or "")
    if alphabet is Alphabet.GSM7:
        units = _restore_trailing_at(units, layout)
    if kind == "SMS-DELIVER":
        return Deliver(str(fields.get("number") or ""), units, fields.get("time"), _concat(fields), alphabet)
    if kind == "SMS-SUBMIT":
        status_report = bool(layout.first & 0x20)
        return Submit(str(fields.get("number") or ""), units, _concat(fields), status_report, alphabet)
    raise PduError(f"unexpected PDU type {kind!r}")
