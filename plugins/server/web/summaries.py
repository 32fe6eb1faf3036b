"""The overview of an alert, kept a moment: its aggregates cost a pass over every attempt.

A finished (or cancelled, or draft) alert does not change until its row does (a recontact
moves its state and ``updated_at``), so its overview is kept until then. For an alert being
sent, a kept overview younger than ``ttl`` is served as is; an older one (up to ``max_age``)
is served while a fresh one is computed in the background, so pages stay fast and the
figures are at most a couple of seconds behind (the live page polls every second). The
key holds the alert's state and modification time, so a change of state made by another
process is seen at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from tocsin.model import Alert, AlertState

SETTLED = (AlertState.FINISHED, AlertState.CANCELLED, AlertState.DRAFT)


class OverviewCache:
    def __init__(self, ttl: float = 1.0, max_age: float = 10.0, size: int = 64) -> None:
        self.ttl = ttl
        self.max_age = max_age
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()
        self._refreshing: set[tuple[Any, ...]] = set()
        self._lock = threading.Lock()

    def _store(self, key: tuple[Any, ...], when: float, value: Any) -> None:
        with self._lock:
            for old in [k for k in self._items if k[0] == key[0] and k != key]:
                del self._items[old]
            self._items[key] = (when, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def _refresh(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                started = time.monotonic()
                self._store(key, started, compute())
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        threading.Thread(target=run, name=f"overview-{key[0]}", daemon=True).start()

    def get(self, alert: Alert, compute: Callable[[], Any]) -> Any:
        """The overview of ``alert``: kept, or ``compute()`` now (see the module docs)."""
        key = (alert.id, alert.state, alert.updated_at)
        now = time.monotonic()
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                age = now - found[0]
                if alert.state in SETTLED or age < self.ttl:
                    return found[1]
                if age < self.max_age:
                    if key not in self._refreshing:
                        self._refreshing.add(key)
                        refresh = True
                    else:
                        refresh = False
                    value = found[1]
                else:
                    refresh, value = False, None
            else:
                refresh, value = False, None
        if value is not None:
            if refresh:
                self._refresh(key, compute)
            return value
        value = compute()
        self._store(key, now, value)
        return value
