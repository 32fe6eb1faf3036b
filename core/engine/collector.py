"""The interpreter's garbage collector while an engine runs.

CPython runs its cyclic collector every 700 container allocations (its youngest
generation's threshold). An engine allocates tuples and attrs values by the million
(attempts, prepared messages, status events), nearly all freed by reference counting,
yet each young collection walks them and every tenth promotes the survivors, so the
oldest generation — every long-lived object of the process — is walked again and
again. Sending to 100,000 contacts by three means spent a fifth of its time there
(38.5 s end to end on SQLite with the default, 30.3 s with 10,000, 31.6 s with the
collector off).

A running engine raises the threshold to ``[engine] gc_threshold`` (default 20,000) and
puts the interpreter's back when the last engine of the process stops. It only ever
raises it: a host application that set a higher one keeps it; ``gc_threshold = 0``
leaves the collector alone. Cyclic garbage is still collected, only less often.
"""

from __future__ import annotations

import gc
import threading

DEFAULT_THRESHOLD = 20_000

_lock = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] | None = None


def hold(threshold: int) -> bool:
    """Raise the youngest generation's threshold to ``threshold`` for as long as it is
    held (0: do nothing); returns whether this caller holds it (and must ``release``)."""
    global _holders, _saved
    if threshold <= 0:
        return False
    with _lock:
        current = gc.get_threshold()
        if _holders == 0:
            _saved = current
        if current[0] < threshold:
            gc.set_threshold(threshold, current[1], current[2])
        _holders += 1
    return True


def release() -> None:
    """Give up one hold; the last one puts back the thresholds found by the first."""
    global _holders, _saved
    with _lock:
        if _holders == 0:
            return
        _holders -= 1
        if _holders == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None


__all__ = ["DEFAULT_THRESHOLD", "hold", "release"]
