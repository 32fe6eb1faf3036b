"""The store: every durable fact, behind small repositories over SQLAlchemy Core.

Writes are batched: bulk inserts and bulk status updates run in one transaction for
thousands of rows. The store is synchronous; the asyncio engine calls it from a worker
thread.
"""

from __future__ import annotations

from tocsin.store.store import Store

__all__ = ["Store"]
