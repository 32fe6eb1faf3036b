"""The ``[engine]`` configuration section: leases, retries, page sizes, routes."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from tocsin.config import Config, parse_duration
from tocsin.engine.collector import DEFAULT_THRESHOLD
from tocsin.errors import ConfigError


def default_node() -> str:
    """A node name unique to this process: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


@frozen
class EngineSettings:
    """How the engine runs.

    ``node`` names this process in leases (give a stable one to a supervised engine so
    that, restarted, it takes its own unfinished work back at once); ``lease`` is how
    long a claim holds before another engine may take the work; ``max_tries`` how many
    times an attempt is handed to its channel before a temporary failure becomes final;
    ``routes`` pins a means to a channel instance when several serve it;
    ``gc_threshold`` is the garbage collector's youngest-generation threshold while the
    engine runs (:mod:`tocsin.engine.collector`; 0 leaves the interpreter's alone).
    """

    node: str = field(factory=default_node)
    stable_node: bool = False
    lease: dt.timedelta = dt.timedelta(minutes=5)
    max_tries: int = 5
    retry_base: dt.timedelta = dt.timedelta(seconds=30)
    retry_cap: dt.timedelta = dt.timedelta(hours=1)
    page: int = 1000
    first_page: int = 200
    claim_batch: int = 500
    flush_interval: float = 0.05
    flush_max: int = 5000
    poll: float = 0.5
    routes: Mapping[str, str] = field(factory=dict)
    gc_threshold: int = DEFAULT_THRESHOLD


def _positive_int(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"engine.{key}: expected a positive integer, got {value!r}")
    return value


def _positive_float(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"engine.{key}: expected a positive number, got {value!r}")
    return float(value)


KNOWN = {
    "node", "lease", "max_tries", "retry_base", "retry_cap", "page", "first_page",
    "claim_batch", "flush_interval", "flush_max", "poll", "routes", "gc_threshold",
}


def engine_settings(config: Config, **overrides: Any) -> EngineSettings:
    """Read ``[engine]`` from ``config``; ``overrides`` win (tests, host applications)."""
    raw = {**config.section("engine"), **overrides}
    if unknown := set(raw) - KNOWN:
        raise ConfigError(f"engine: unknown key(s) {sorted(unknown)}; known: {sorted(KNOWN)}")
    routes = raw.get("routes", {})
    if not isinstance(routes, Mapping) or not all(isinstance(v, str) for v in routes.values()):
        raise ConfigError("engine.routes: expected a table of means = \"channel name\"")
    node = raw.get("node")
    if node is not None and (not isinstance(node, str) or not node.strip()):
        raise ConfigError(f"engine.node: expected a non-empty name, got {node!r}")
    return EngineSettings(
        node=node or default_node(),
        stable_node=node is not None,
        lease=parse_duration(raw.get("lease", 300), key="engine.lease"),
        max_tries=_positive_int(raw, "max_tries", 5),
        retry_base=parse_duration(raw.get("retry_base", 30), key="engine.retry_base"),
        retry_cap=parse_duration(raw.get("retry_cap", 3600), key="engine.retry_cap"),
        page=_positive_int(raw, "page", 1000),
        first_page=_positive_int(raw, "first_page", 200),
        claim_batch=_positive_int(raw, "claim_batch", 500),
        flush_interval=_positive_float(raw, "flush_interval", 0.05),
        flush_max=_positive_int(raw, "flush_max", 5000),
        poll=_positive_float(raw, "poll", 0.5),
        routes=dict(routes),
        gc_threshold=_gc_threshold(raw),
    )


def _gc_threshold(raw: Mapping[str, Any]) -> int:
    value = raw.get("gc_threshold", DEFAULT_THRESHOLD)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigError(
            f"engine.gc_threshold: expected a whole number of allocations (0 leaves the garbage "
            f"collector alone), got {value!r}"
        )
    return value
