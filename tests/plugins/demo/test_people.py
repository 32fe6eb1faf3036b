"""The demonstration contacts: valid, importable, and covering every scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from tocsin.contacts_import import import_contacts
from tocsin.hal.scenarios import CallFate, SmsFate, scenario_for
from tocsin.plugins.demo.people import PROFILES, citizens, modem_scenarios, twilio_book, write_csv
from tocsin.store import Store


@pytest.mark.parametrize("count", [1, len(PROFILES), 50, 137])
def test_the_contacts_file_imports_whole_with_every_number_and_address(
        tmp_path: Path, sqlite_store: Store, count: int) -> None:
    people = citizens(count)
    sqlite_store.groups.create("demo")
    result = import_contacts(sqlite_store, write_csv(tmp_path / "c.csv", people), region="FR",
                             group="demo")
    assert result.created == count
    stored = sqlite_store.contacts.load(sqlite_store.groups.members("demo"))
    values = {m.value for c in stored.values() for m in c.means}
    assert values == {p.mobile for p in people if p.mobile} | {p.email for p in people if p.email}


def test_one_cycle_of_contacts_meets_every_phone_and_mailbox_behaviour() -> None:
    people = citizens(len(PROFILES))
    calls = {scenario_for(modem_scenarios(), p.mobile).call for p in people if p.mobile}
    sms = {scenario_for(modem_scenarios(), p.mobile).sms for p in people if p.mobile}
    assert calls == set(CallFate) - {CallFate.PRESS_OTHER, CallFate.HANG_UP}
    assert sms == {SmsFate.DELIVERED, SmsFate.UNDELIVERED, SmsFate.LATE}
    prefixes = {p.email.split(".")[0] for p in people if p.email}
    assert {"bounce", "complain", "unknown"} <= prefixes
    assert any(not p.mobile for p in people) and any(not p.email for p in people)


def test_the_twilio_simulator_reads_the_same_blocks_of_numbers() -> None:
    book = twilio_book()
    assert book.for_number("call", "+33620000003").outcome == "busy"
    assert book.for_number("call", "+33610000001").outcome == "press"
    assert book.for_number("sms", "+33630000005").outcome == "undelivered"
    assert book.for_number("call", "+33650000009").outcome == "voicemail"
