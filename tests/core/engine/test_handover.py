"""Preparing claimed attempts: rendering, and the contact cache under several database
threads (PostgreSQL runs four)."""

from __future__ import annotations

import threading
from typing import Any

from tocsin.engine.handover import Preparer
from tocsin.model import Alert, Attempt, Message


def test_the_contact_cache_stays_consistent_under_concurrent_threads(sqlite_store: Any) -> None:
    from tocsin.model import Contact

    store = sqlite_store
    ids = store.contacts.upsert([Contact(first_name=f"C{i}") for i in range(60)]).ids
    alert = store.alerts.insert(Alert("T", [Message("sms", text="Hi {{ first_name }}")]))
    preparer = Preparer(store)
    preparer.CACHE = 7  # evict all the time
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for round_ in range(15):
                batch = [
                    Attempt(alert.id, ids[(offset + round_ * 7 + k) % 60], "sms", "+336", "", id=k)
                    for k in range(9)
                ]
                for prepared in preparer.prepare(batch):
                    assert prepared.outbound is not None
                    assert prepared.outbound.message.text == f"Hi {prepared.outbound.contact_name}"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i * 13,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(preparer._contacts) <= 7


def test_an_attempt_whose_contact_was_deleted_is_not_handed_over(sqlite_store: Any) -> None:
    from tocsin.model import Contact

    [cid] = sqlite_store.contacts.upsert([Contact(first_name="A")]).ids
    alert = sqlite_store.alerts.insert(Alert("T", [Message("sms", text="x")]))
    sqlite_store.contacts.delete(cid)
    [prepared] = Preparer(sqlite_store).prepare([Attempt(alert.id, cid, "sms", "+336", "", id=1)])
    assert prepared.outbound is None and prepared.error == "contact deleted"
