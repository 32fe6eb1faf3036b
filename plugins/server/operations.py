"""Long operations (import, send, export): started at once, followed by their id.

An operation is a row in the store, so any server process can report its progress;
the work runs in a worker thread of the process that started it, writing its progress
at most a few times a second. Clients poll ``GET /api/operations/{id}`` or follow
``/api/operations/{id}/events`` (server-sent events).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from attrs import frozen
from sqlalchemy import Engine, insert, select, update

from tocsin.clock import Clock
from tocsin.errors import NotFoundError, TocsinError
from tocsin.store.schema import operations

HEARTBEAT_SECONDS = 10.0
"""How often a running operation proves its process is alive (``updated_at``)."""
STALE_SECONDS = 120.0
"""A running operation silent for longer lost its process: it is reported failed."""

Progress = Callable[[int, int | None, str], None]
"""``progress(done, total, message)``, called by the work as it goes."""


class OperationState:
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@frozen
class Operation:
    id: str
    kind: str
    state: str
    done: int
    total: int | None
    message: str
    result: dict[str, Any]
    error: str
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def finished(self) -> bool:
        return self.state != OperationState.RUNNING


def _to_op(row: Any) -> Operation:
    return Operation(
        id=row.id,
        kind=row.kind,
        state=row.state,
        done=row.done,
        total=row.total,
        message=row.message,
        result=dict(row.result or {}),
        error=row.error,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class Operations:
    """The operations table and the tasks running them in this process."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    def create(self, kind: str, created_by: int | None, total: int | None = None) -> Operation:
        now = self.clock.now()
        op_id = secrets.token_hex(16)
        with self.engine.begin() as conn:
            conn.execute(
                insert(operations),
                {
                    "id": op_id, "kind": kind, "state": OperationState.RUNNING, "done": 0,
                    "total": total, "message": "", "result": {}, "error": "",
                    "created_by": created_by, "created_at": now, "updated_at": now,
                },
            )
        return self.get(op_id)

    def get(self, op_id: str) -> Operation:
        """The operation; one whose process stopped while running it is marked failed."""
        with self.engine.connect() as conn:
            row = conn.execute(select(operations).where(operations.c.id == op_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no operation with id {op_id!r}")
        op = _to_op(row)
        silent = (self.clock.now() - op.updated_at).total_seconds()
        if op.state == OperationState.RUNNING and silent > STALE_SECONDS:
            with self.engine.begin() as conn:
                conn.execute(
                    update(operations)
                    .where(operations.c.id == op_id, operations.c.state == OperationState.RUNNING,
                           operations.c.updated_at == op.updated_at)
                    .values(state=OperationState.FAILED,
                            error="interrupted: the process running it stopped")
                )
            return self.get(op_id)
        return op

    def _write(self, op_id: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(operations)
                .where(operations.c.id == op_id)
                .values(updated_at=self.clock.now(), **values)
            )

    def start(self, op: Operation, work: Callable[[Progress], dict[str, Any]]) -> None:
        """Run ``work(progress)`` in a worker thread; its return value is the result."""
        last = [0.0]

        def progress(done: int, total: int | None, message: str) -> None:
            if time.monotonic() - last[0] >= 0.2:
                last[0] = time.monotonic()
                self._write(op.id, done=done, total=total, message=message)

        def run() -> None:
            try:
                result = work(progress)
            except TocsinError as exc:
                self._write(op.id, state=OperationState.FAILED, error=str(exc),
                            result=_error_details(exc))
                return
            except Exception as exc:  # reported on the operation, never lost
                self._write(op.id, state=OperationState.FAILED, error=f"{type(exc).__name__}: {exc}")
                raise
            done = int(result.get("done", 0)) if isinstance(result.get("done"), int) else None
            values: dict[str, Any] = {"state": OperationState.DONE, "result": result}
            if done is not None:
                values["done"] = done
            self._write(op.id, **values)

        self._track(op, asyncio.get_running_loop().create_task(asyncio.to_thread(run)))

    def _track(self, op: Operation, task: asyncio.Task[None]) -> None:
        """Keep ``task`` alive and beat ``op``'s heart while it runs."""

        async def heartbeat() -> None:
            while not task.done():
                await asyncio.wait({task}, timeout=HEARTBEAT_SECONDS)
                if not task.done():
                    await asyncio.to_thread(self._beat, op.id)

        beat = asyncio.get_running_loop().create_task(heartbeat())
        for t in (task, beat):
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)

    def _beat(self, op_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(operations).where(operations.c.id == op_id,
                                                  operations.c.state == OperationState.RUNNING)
                         .values(updated_at=self.clock.now()))

    def start_async(self, op: Operation, work: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        """Run the coroutine ``work()`` on this loop (engine calls); its result is the result."""

        async def run() -> None:
            try:
                result = await work()
            except TocsinError as exc:
                await asyncio.to_thread(self._write, op.id, state=OperationState.FAILED,
                                        error=str(exc), result=_error_details(exc))
                return
            except Exception as exc:
                await asyncio.to_thread(self._write, op.id, state=OperationState.FAILED,
                                        error=f"{type(exc).__name__}: {exc}")
                raise
            await asyncio.to_thread(self._write, op.id, state=OperationState.DONE, result=result)

        self._track(op, asyncio.get_running_loop().create_task(run()))

    async def wait_all(self) -> None:
        """Wait for this process's running operations (shutdown and tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _error_details(exc: TocsinError) -> dict[str, Any]:
    errors = getattr(exc, "errors", None)
    if not errors:
        return {}
    return {"errors": [{"row": e.row, "column": e.column, "message": e.message} for e in errors]}
