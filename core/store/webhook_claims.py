"""Webhook claims: each provider delivery is accepted once, by whichever process.

A claim is a row keyed by ``(scope, key)``; inserting it is the claim. The insert is
``INSERT ... ON CONFLICT DO NOTHING RETURNING``: the rows it returns are the claims this
call won, so of any number of processes (or threads) claiming one delivery at the same
moment exactly one wins. Claims made together go in one statement and one transaction,
in one order (sorted) in every process, so that concurrent batches cannot deadlock.
Rows are kept until :meth:`WebhookClaims.purge` removes those older than the replay
window (see :mod:`tocsin.plugins.cloudkit.replay`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Engine, delete, exists, select

from tocsin.store.bulk import Bulk, RowShape
from tocsin.store.filters import chunks
from tocsin.store.schema import webhook_claims

CHUNK = 500
"""Claims per statement (SQLite allows 32,766 parameters; three a claim)."""


_CLAIM_ROWS = RowShape("webhook_claims", ("scope", '"key"', "claimed_at"))


def _claim_sql(count: int) -> str:
    return _CLAIM_ROWS.insert_sql(count) + ' ON CONFLICT (scope, "key") DO NOTHING RETURNING scope, "key"'


class WebhookClaims:
    """The webhook claims repository."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._bulk = Bulk(engine.dialect.name)

    def claim(self, scope: str, key: str, *, now: dt.datetime) -> bool:
        """Record ``(scope, key)`` as claimed at ``now``; ``False`` when it already was."""
        return self.claim_many([(scope, key)], now=now)[0]

    def claim_many(self, pairs: Sequence[tuple[str, str]], *, now: dt.datetime) -> list[bool]:
        """Claim every ``(scope, key)`` in one transaction; for each, whether this call
        won it (a pair given twice is won at most once, by its first occurrence)."""
        unique = sorted(set(pairs))
        # straight to the driver: SQLAlchemy's per-parameter processing would cost more
        # than the insert itself on this path, taken by every webhook
        stamp, won = self._bulk.ts(now), set[tuple[str, str]]()
        with self.engine.begin() as conn:
            for chunk in chunks(unique, CHUNK):
                params = tuple(v for scope, key in chunk for v in (scope, key, stamp))
                won.update((r[0], r[1]) for r in self._bulk.select(conn, _claim_sql(len(chunk)), params))
        result = []
        for pair in pairs:
            result.append(pair in won)
            won.discard(pair)
        return result

    def release(self, scope: str, key: str) -> None:
        """Forget a claim (its delivery could not be applied: the retry must be accepted)."""
        with self.engine.begin() as conn:
            conn.execute(delete(webhook_claims).where(webhook_claims.c.scope == scope,
                                                      webhook_claims.c.key == key))

    def is_claimed(self, scope: str, key: str) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(select(exists().where(
                webhook_claims.c.scope == scope, webhook_claims.c.key == key))).scalar())

    def purge(self, *, older_than: dt.datetime) -> int:
        """Remove the claims made before ``older_than``; returns how many."""
        with self.engine.begin() as conn:
            return int(conn.execute(
                delete(webhook_claims).where(webhook_claims.c.claimed_at < older_than)
            ).rowcount)


__all__ = ["WebhookClaims"]
