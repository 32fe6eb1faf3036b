"""The demonstration's citizens, and what their phones and mailboxes do.

Contacts follow a cycle of :data:`PROFILES`, so any list of at least ``len(PROFILES)``
contacts shows every outcome. A phone's behaviour is chosen by the digit after ``+336``
in its number (``+3362...`` is always busy, ``+3363...`` never answers and never gets
its SMS...), which both the virtual modems' scenarios and the Twilio simulator's
scenario book read; a mailbox's behaviour by the local part the demo mail server reads
(``bounce...`` bounces, ``complain...`` marks the e-mail as spam, ``unknown...`` is
refused). The contacts reach Tocsin through a CSV file and the ordinary importer.
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

from attrs import frozen

from tocsin.hal.scenarios import CallFate, Scenario, SmsFate
from tocsin.testing.twilio_scenarios import ScenarioBook, parse_book


@frozen
class Phone:
    """What a block of numbers does: its digit after ``+336`` and both providers' words."""

    digit: str
    label: str
    sms: SmsFate
    call: CallFate
    twilio_sms: str
    twilio_call: str

    @property
    def pattern(self) -> str:
        return f"+336{self.digit}*"


PHONES = {
    "press-1": Phone("1", "answers and presses 1", SmsFate.DELIVERED, CallFate.PRESS_1,
                     "delivered", "press:1"),
    "busy": Phone("2", "line busy", SmsFate.DELIVERED, CallFate.BUSY, "delivered", "busy"),
    "away": Phone("3", "phone off: no answer, SMS undelivered", SmsFate.UNDELIVERED,
                  CallFate.NO_ANSWER, "undelivered:30003", "no-answer"),
    "listens": Phone("4", "answers, listens, never presses 1", SmsFate.DELIVERED, CallFate.ANSWER,
                     "delivered", "answer"),
    "voicemail": Phone("5", "voicemail answers", SmsFate.DELIVERED, CallFate.VOICEMAIL,
                       "delivered", "voicemail"),
    "late": Phone("6", "presses 1; the SMS report comes late", SmsFate.LATE, CallFate.PRESS_1,
                  "delivered+duplicates", "press:1+duplicates"),
}

MAILBOXES = {
    "plain": "",
    "bounce": "bounce.",
    "complain": "complain.",
    "unknown": "unknown.",
}
"""Mailbox behaviour -> local-part prefix (see :mod:`tocsin.plugins.smtp.demo`)."""


@frozen
class Profile:
    phone: str | None  # a key of PHONES, None: no mobile number
    mailbox: str | None  # a key of MAILBOXES, None: no e-mail address


PROFILES = (
    Profile("press-1", "plain"),
    Profile("press-1", "bounce"),
    Profile("busy", "plain"),
    Profile("press-1", "complain"),
    Profile("away", "bounce"),  # reached by no means: reminders, then recontact
    Profile("press-1", "plain"),
    Profile("listens", "plain"),
    Profile("late", "plain"),
    Profile("voicemail", "plain"),
    Profile("press-1", "unknown"),
    Profile("press-1", None),
    Profile(None, "plain"),
)

FIRST = ("Anne", "Luc", "Zoé", "Jean", "Inès", "Hugo", "Léa", "Paul", "Chloé", "Marc", "Sarah",
         "Louis", "Emma", "Nora", "Yanis", "Julie", "Bruno", "Agathe", "Karim", "Maëlle")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand")
HEADER = ("external_id", "first_name", "last_name", "mobile", "email", "language")


@frozen
class Citizen:
    external_id: str
    first_name: str
    last_name: str
    mobile: str
    email: str
    profile: Profile


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def citizens(count: int) -> list[Citizen]:
    """``count`` citizens following the cycle of :data:`PROFILES`."""
    people = []
    for i in range(count):
        profile = PROFILES[i % len(PROFILES)]
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        mobile = f"+336{PHONES[profile.phone].digit}{i + 1:07d}" if profile.phone else ""
        email = ""
        if profile.mailbox:
            email = f"{MAILBOXES[profile.mailbox]}{_ascii(first)}.{_ascii(last)}{i + 1}@example.org"
        people.append(Citizen(f"demo-{i + 1:03d}", first, last, mobile, email, profile))
    return people


def write_csv(path: Path, people: list[Citizen]) -> Path:
    """The citizens as a contacts file, the way an operator would bring them."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for c in people:
            writer.writerow((c.external_id, c.first_name, c.last_name, c.mobile, c.email, "fr"))
    return path


def modem_scenarios() -> list[Scenario]:
    """The virtual modems' network: one rule per block of numbers."""
    return [Scenario(pattern=p.pattern, sms=p.sms, call=p.call) for p in PHONES.values()]


def twilio_book() -> ScenarioBook:
    """The Twilio simulator's scenarios for the same blocks of numbers."""
    return parse_book({
        "sms": {p.pattern: p.twilio_sms for p in PHONES.values()},
        "call": {p.pattern: p.twilio_call for p in PHONES.values()},
    })
