"""Error and status code tables of 3GPP TS 27.007, 27.005 and 23.040.

``+CME ERROR`` codes (equipment, TS 27.007 §9.2), ``+CMS ERROR`` codes (SMS,
TS 27.005 §3.2.5, including the network causes of TS 24.011 / 23.040 below 256) and
the TP-Status of an SMS status report (TS 23.040 §9.2.3.15) with what each means for
an attempt.
"""

from __future__ import annotations

import enum

CME_ERRORS: dict[int, str] = {
    0: "phone failure",
    1: "no connection to phone",
    2: "phone-adaptor link reserved",
    3: "operation not allowed",
    4: "operation not supported",
    5: "PH-SIM PIN required",
    6: "PH-FSIM PIN required",
    7: "PH-FSIM PUK required",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    15: "SIM wrong",
    16: "incorrect password",
    17: "SIM PIN2 required",
    18: "SIM PUK2 required",
    20: "memory full",
    21: "invalid index",
    22: "not found",
    23: "memory failure",
    24: "text string too long",
    25: "invalid characters in text string",
    26: "dial string too long",
    27: "invalid characters in dial string",
    30: "no network service",
    31: "network timeout",
    32: "network not allowed - emergency calls only",
    40: "network personalisation PIN required",
    41: "network personalisation PUK required",
    100: "unknown",
    103: "illegal MS",
    106: "illegal ME",
    107: "GPRS services not allowed",
    111: "PLMN not allowed",
    112: "location area not allowed",
    113: "roaming not allowed in this location area",
    148: "unspecified GPRS error",
}

CMS_ERRORS: dict[int, str] = {
    1: "unassigned (unallocated) number",
    8: "operator determined barring",
    10: "call barred",
    21: "short message transfer rejected",
    27: "destination out of service",
    28: "unidentified subscriber",
    29: "facility rejected",
    30: "unknown subscriber",
    38: "network out of order",
    41: "temporary failure",
    42: "congestion",
    47: "resources unavailable, unspecified",
    50: "requested facility not subscribed",
    69: "requested facility not implemented",
    81: "invalid short message transfer reference value",
    95: "invalid message, unspecified",
    96: "invalid mandatory information",
    97: "message type non-existent or not implemented",
    98: "message not compatible with short message protocol state",
    99: "information element non-existent or not implemented",
    111: "protocol error, unspecified",
    127: "interworking, unspecified",
    128: "telematic interworking not supported",
    129: "short message type 0 not supported",
    130: "cannot replace short message",
    143: "unspecified TP-PID error",
    144: "data coding scheme (alphabet) not supported",
    145: "message class not supported",
    159: "unspecified TP-DCS error",
    160: "command cannot be actioned",
    161: "command unsupported",
    175: "unspecified TP-Command error",
    176: "TPDU not supported",
    192: "SC busy",
    193: "no SC subscription",
    194: "SC system failure",
    195: "invalid SME address",
    196: "destination SME barred",
    197: "SM rejected - duplicate SM",
    198: "TP-VPF not supported",
    199: "TP-VP not supported",
    208: "SIM SMS storage full",
    209: "no SMS storage capability in SIM",
    210: "error in MS",
    211: "memory capacity exceeded",
    212: "SIM application toolkit busy",
    213: "SIM data download error",
    255: "unspecified error cause",
    300: "ME failure",
    301: "SMS service of ME reserved",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    312: "PH-SIM PIN required",
    313: "SIM failure",
    314: "SIM busy",
    315: "SIM wrong",
    316: "SIM PUK required",
    317: "SIM PIN2 required",
    318: "SIM PUK2 required",
    320: "memory failure",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}

CMS_TEMPORARY: frozenset[int] = frozenset(
    {27, 38, 41, 42, 47, 192, 194, 212, 300, 314, 320, 331, 332, 500}
)
"""``+CMS ERROR`` codes worth retrying (congestion, network or modem trouble)."""

CMS_MODEM_FAULT: frozenset[int] = frozenset(
    {300, 301, 310, 311, 312, 313, 314, 315, 316, 320, 330, 331, 332, 500}
)
"""``+CMS ERROR`` codes that blame the modem or its SIM, not the recipient: the pool
counts them against the modem and retries the message on another one."""


def cme_meaning(code: int) -> str:
    """The meaning of ``+CME ERROR: code`` (TS 27.007)."""
    if code in CME_ERRORS:
        return CME_ERRORS[code]
    return "manufacturer specific" if code >= 256 else "reserved"


def cms_meaning(code: int) -> str:
    """The meaning of ``+CMS ERROR: code`` (TS 27.005)."""
    if code in CMS_ERRORS:
        return CMS_ERRORS[code]
    if code >= 512:
        return "manufacturer specific"
    return "reserved"


class Delivery(enum.StrEnum):
    """What a status report says about one SMS part."""

    DELIVERED = "delivered"
    PENDING = "pending"
    FAILED = "failed"


TP_STATUS: dict[int, str] = {
    0x00: "short message received by the SME",
    0x01: "forwarded by the SC to the SME but delivery could not be confirmed",
    0x02: "short message replaced by the SC",
    0x20: "congestion (SC still trying)",
    0x21: "SME busy (SC still trying)",
    0x22: "no response from SME (SC still trying)",
    0x23: "service rejected (SC still trying)",
    0x24: "quality of service not available (SC still trying)",
    0x25: "error in SME (SC still trying)",
    0x40: "remote procedure error",
    0x41: "incompatible destination",
    0x42: "connection rejected by SME",
    0x43: "not obtainable",
    0x44: "quality of service not available",
    0x45: "no interworking available",
    0x46: "SM validity period expired",
    0x47: "SM deleted by originating SME",
    0x48: "SM deleted by SC administration",
    0x49: "SM does not exist",
    0x60: "congestion (SC gave up)",
    0x61: "SME busy (SC gave up)",
    0x62: "no response from SME (SC gave up)",
    0x63: "service rejected (SC gave up)",
    0x64: "quality of service not available (SC gave up)",
    0x65: "error in SME (SC gave up)",
}


def classify_tp_status(status: int) -> Delivery:
    """Map a TP-Status octet to delivered, still pending or failed (TS 23.040 ranges).

    0x00-0x1F: transaction completed; 0x20-0x3F: temporary error, the SC keeps trying;
    0x40-0x5F: permanent error; 0x60-0x7F: temporary error, the SC gave up. Values with
    bit 7 set are reserved and treated as failures.
    """
    if not 0 <= status <= 0xFF:
        raise ValueError(f"TP-Status must be one octet, got {status}")
    if status < 0x20:
        return Delivery.DELIVERED
    if status < 0x40:
        return Delivery.PENDING
    return Delivery.FAILED


def tp_status_meaning(status: int) -> str:
    """A readable meaning of a TP-Status octet."""
    if status in TP_STATUS:
        return TP_STATUS[status]
    kind = classify_tp_status(status)
    return {
        Delivery.DELIVERED: "delivered (SC specific status)",
        Delivery.PENDING: "temporary error, SC still trying",
        Delivery.FAILED: "delivery failed",
    }[kind]
