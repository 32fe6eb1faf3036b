"""The engine's database threads: the store is synchronous, the engine is asyncio.

One thread on SQLite (a single writer: no lock contention), a few on PostgreSQL. Work
is taken by priority, so handing attempts to channels and applying statuses never wait
behind a long fan-out page or a report-sized read.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

URGENT = 0
"""Claims for dispatch, status batches, cancels."""
NORMAL = 1
"""Everything else, first come first served: timer pages (a long fan-out submits its
pages one at a time, so an operator's request waits for one page at most), reads,
alert checks."""


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.cancelled():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class DbThreads:
    """``await threads.run(fn, priority)`` runs ``fn`` in a database thread."""

    def __init__(self, count: int = 1, name: str = "tocsin-db") -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, Any, Any, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(count)
        ]
        for thread in self._threads:
            thread.start()
        self.closed = False

    def _work(self) -> None:
        while True:
            _, _, fn, future, loop = self._queue.get()
            if fn is None:
                return
            try:
                result = fn()
            except BaseException as exc:
                loop.call_soon_threadsafe(_settle, future, False, exc)
            else:
                loop.call_soon_threadsafe(_settle, future, True, result)

    async def run(self, fn: Callable[[], T], priority: int = NORMAL) -> T:
        if self.closed:
            raise RuntimeError("the engine's database threads are shut down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((priority, next(self._order), fn, future, loop))
        return await future

    def shutdown(self) -> None:
        """Finish queued work, then stop the threads."""
        if self.closed:
            return
        self.closed = True
        for _ in self._threads:
            self._queue.put((99, next(self._order), None, None, None))
        for thread in self._threads:
            thread.join()
