"""Login throttling: too many failures for one username or from one address, wait.

Attempts are rows in the store, so several server processes share the count.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, delete, func, insert, select

from tocsin.store.schema import login_attempts

IP_FACTOR = 4
"""An address may fail this many times more than a username (several users behind NAT)."""


class LoginThrottle:
    def __init__(self, engine: Engine, *, max_failures: int, window: int) -> None:
        self.engine = engine
        self.max_failures = max_failures
        self.window = dt.timedelta(seconds=window)

    def retry_after(self, username: str, ip: str, *, now: dt.datetime) -> int:
        """Seconds to wait before trying again (0: go ahead)."""
        since = now - self.window
        with self.engine.connect() as conn:
            waits = []
            for column, value, limit in (
                (login_attempts.c.username, username.lower(), self.max_failures),
                (login_attempts.c.ip, ip, self.max_failures * IP_FACTOR),
            ):
                count, oldest = conn.execute(
                    select(func.count(), func.min(login_attempts.c.at)).where(
                        column == value,
                        login_attempts.c.success.is_(False),
                        login_attempts.c.at > since,
                    )
                ).one()
                if count >= limit and oldest is not None:
                    waits.append(int((oldest + self.window - now).total_seconds()) + 1)
        return max(waits, default=0)

    def record(self, username: str, ip: str, success: bool, *, now: dt.datetime) -> None:
        with self.engine.begin() as conn:
            if success:
                conn.execute(
                    delete(login_attempts).where(login_attempts.c.username == username.lower())
                )
            conn.execute(
                delete(login_attempts).where(login_attempts.c.at < now - 4 * self.window)
            )
            conn.execute(
                insert(login_attempts),
                {"username": username.lower()[:150], "ip": ip[:64], "success": success, "at": now},
            )
