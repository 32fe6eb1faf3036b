"""SMS replies: which texts are keywords, and which attempt a confirming reply is about.

A contact answers an alert SMS with ``1``, ``OUI`` or ``yes!`` from a phone keyboard:
case, accents, a trailing full stop or an emoji around the word vary, so texts and
keywords are compared once both are :func:`normalise`-d. Only a whole reply is a keyword
(``oui merci`` is not): a reply that says more belongs to a conversation plugin, not to
an automatic confirmation.

A reply names no attempt. It confirms the most recent SMS attempt sent to the sender's
number whose alert is still open, or, when no such alert is open, the most recent one
sent within ``reply_window`` (a late reply to an alert that just finished). The lookup
goes through the contacts that have the number (``ix_contact_means_value``) and their
attempts (``ix_attempts_contact_created``): a reply costs a few index reads, whatever
the size of the store.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import field, frozen
from sqlalchemy import Connection, and_, case, or_, select

from tocsin.config import parse_duration
from tocsin.errors import ConfigError, ValidationError
from tocsin.model import AlertState
from tocsin.status import StatusMachine
from tocsin.store.schema import alerts, attempts, contact_means
from tocsin.validate import phone_e164
from tocsin.values import as_frozenset

DEFAULT_CONFIRM_KEYWORDS = ("1", "OUI", "YES")
DEFAULT_REPLY_WINDOW = dt.timedelta(hours=24)
STOP_WORDS = ("STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "ARRET", "ARRÊT", "END", "QUIT")
OPEN_ALERT_STATES = (AlertState.SENDING, AlertState.SENT)

_EDGE_CATEGORIES = ("P", "S", "Z", "C")  # punctuation, symbols, separators, controls


def normalise(text: str) -> str:
    """``text`` as keywords are compared: accents and case folded, runs of whitespace made
    one space, punctuation, symbols (emoji) and whitespace around it dropped.

    ``" Oui ! "``, ``"OUÍ"`` and ``"1️⃣"`` (a keycap emoji) normalise to ``"oui"``,
    ``"oui"`` and ``"1"``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    words = " ".join(bare.casefold().split())
    start, end = 0, len(words)
    while start < end and unicodedata.category(words[start])[0] in _EDGE_CATEGORIES:
        start += 1
    while end > start and unicodedata.category(words[end - 1])[0] in _EDGE_CATEGORIES:
        end -= 1
    return words[start:end]


@frozen
class KeywordSet:
    """Keywords compared in normalised form; built from configuration, refused when a
    keyword has nothing left to compare once normalised (``"!!"``)."""

    words: frozenset[str] = field(converter=as_frozenset)

    @classmethod
    def of(cls, keywords: Iterable[str], *, key: str) -> KeywordSet:
        words: set[str] = set()
        for raw in keywords:
            if not isinstance(raw, str):
                raise ConfigError(f"{key}: expected a list of texts, got {raw!r}")
            word = normalise(raw)
            if not word:
                raise ConfigError(f"{key}: {raw!r} is no keyword once spaces and punctuation go")
            words.add(word)
        if not words:
            raise ConfigError(f"{key}: at least one keyword is required")
        return cls(frozenset(words))

    def matches(self, text: str) -> bool:
        """Whether the whole of ``text`` is one of the keywords."""
        return normalise(text) in self.words


STOP = KeywordSet.of(STOP_WORDS, key="inbound.stop_words")


DEFAULT_KEYWORDS = KeywordSet.of(DEFAULT_CONFIRM_KEYWORDS, key="inbound.confirm_keywords")


@frozen
class InboundSettings:
    """The ``[inbound]`` section: what the built-in inbound plugin claims."""

    confirm_digit: str = "1"
    confirm_keywords: KeywordSet = DEFAULT_KEYWORDS
    reply_window: dt.timedelta = DEFAULT_REPLY_WINDOW


INBOUND_KEYS = ("confirm_digit", "confirm_keywords", "reply_window")


def parse_inbound(section: Mapping[str, Any]) -> InboundSettings:
    """Validate ``[inbound]``; :class:`ConfigError` names the bad key."""
    if unknown := set(section) - set(INBOUND_KEYS):
        raise ConfigError(f"inbound: unknown key(s) {sorted(unknown)}; known: {list(INBOUND_KEYS)}")
    digit = str(section.get("confirm_digit", "1")).strip()
    if len(digit) != 1 or digit not in "0123456789*#":
        raise ConfigError(f"inbound.confirm_digit: expected one key of a phone pad, got {digit!r}")
    raw = section.get("confirm_keywords", DEFAULT_CONFIRM_KEYWORDS)
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise ConfigError(f'inbound.confirm_keywords: expected a list such as ["1", "OUI"], got {raw!r}')
    keywords = KeywordSet.of(raw, key="inbound.confirm_keywords")
    if clash := sorted(keywords.words & STOP.words):
        raise ConfigError(f"inbound.confirm_keywords: {clash} already mean opt-out (STOP)")
    window = parse_duration(section.get("reply_window", "24h"), key="inbound.reply_window")
    if window <= dt.timedelta(0):
        raise ConfigError("inbound.reply_window: must be longer than zero")
    return InboundSettings(confirm_digit=digit, confirm_keywords=keywords, reply_window=window)


def sender_number(sender: str, region: str) -> str | None:
    """The sender as contact numbers are stored (E.164), or ``None`` for a sender that
    is no phone number (an operator's alphanumeric name, a short code)."""
    try:
        return phone_e164(sender, region)
    except ValidationError:
        return None


def confirmable_states(machine: StatusMachine, status: str = "confirmed") -> tuple[str, ...]:
    """The states an attempt may be in for ``status`` to apply to it, and ``status``
    itself (a second ``OUI`` is a duplicate, not a reply to an older message)."""
    return tuple(s for s in machine.states if s == status or machine.decide(s, status).applies)


def replied_attempt(
    conn: Connection, number: str, *, states: Iterable[str], now: dt.datetime, window: dt.timedelta,
    means: str = "sms",
) -> int | None:
    """The attempt a reply from ``number`` is about (see the module documentation), or
    ``None`` when no attempt of ``means`` in one of ``states`` was sent to that number
    in an open alert or within ``window``."""
    contact_ids = select(contact_means.c.contact_id).where(contact_means.c.value == number)
    open_alert = alerts.c.state.in_([str(s) for s in OPEN_ALERT_STATES])
    query = (
        select(attempts.c.id)
        .select_from(attempts.outerjoin(alerts, alerts.c.id == attempts.c.alert_id))
        .where(
            attempts.c.contact_id.in_(contact_ids),
            attempts.c.means == means,
            attempts.c.address == number,
            attempts.c.status.in_(list(states)),
            or_(open_alert, and_(attempts.c.sent_at.is_not(None), attempts.c.sent_at >= now - window)),
        )
        .order_by(
            case((open_alert, 0), else_=1),
            attempts.c.sent_at.desc(),
            attempts.c.id.desc(),
        )
        .limit(1)
    )
    found = conn.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


__all__ = [
    "DEFAULT_CONFIRM_KEYWORDS",
    "STOP",
    "InboundSettings",
    "KeywordSet",
    "confirmable_states",
    "normalise",
    "parse_inbound",
    "replied_attempt",
    "sender_number",
]
