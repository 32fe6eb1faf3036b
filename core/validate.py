"""Addresses are validated before anything is stored or sent.

Phone numbers become E.164 with phonenumbers (a default region for national
numbers); e-mail addresses are checked for syntax with email-validator (no DNS: an
import must not depend on the network).
"""

from __future__ import annotations

import functools
import re

import email_validator
import phonenumbers

from tocsin.errors import ValidationError

_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.PAGER,
}


def phone_e164(value: str, region: str) -> str:
    """``value`` as an E.164 number; :class:`ValidationError` saying why it is not one."""
    text = str(value).strip()
    if not text:
        raise ValidationError("empty phone number")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"{text!r} is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(number):
        where = "" if text.startswith(("+", "00")) else f" for region {region}"
        raise ValidationError(f"{text!r} is not a valid phone number{where}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """Whether an E.164 number can receive SMS as far as the numbering plan says."""
    return phonenumbers.number_type(phonenumbers.parse(e164)) in _MOBILE_TYPES


# An ASCII dot-atom local part: the shape of nearly every real address. Such an
# address only needs its domain checked, and domains repeat: that check is cached.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@functools.lru_cache(maxsize=4096)
def _domain(domain: str) -> str:
    return str(email_validator.validate_email(f"x@{domain}", check_deliverability=False).domain)


def _email(text: str) -> str:
    local, at, domain = text.rpartition("@")
    if at and len(local) <= 64 and _DOT_ATOM.fullmatch(local) and len(text) <= 254:
        return f"{local}@{_domain(domain)}"
    return str(email_validator.validate_email(text, check_deliverability=False).normalized)


def email_address(value: str) -> str:
    """``value`` as a normalised e-mail address; :class:`ValidationError` saying why not."""
    text = str(value).strip()
    if not text:
        raise ValidationError("empty e-mail address")
    try:
        return _email(text)
    except email_validator.EmailNotValidError as exc:
        raise ValidationError(f"{text!r} is not a valid e-mail address ({exc})") from None
