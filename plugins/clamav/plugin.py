"""The ``clamav`` plugin: scans outgoing messages with clamd through ``tocsin_scan_message``.

Inactive until configured, so that installing Tocsin never blocks mail on a daemon that is
not there::

    [clamav]
    socket = "/run/clamav/clamd.ctl"   # or host = "127.0.0.1" and port = 3310
    timeout = 30

Every part of a message is streamed to clamd; the first signature found refuses the
message (an e-mail becomes *rejected*). When clamd cannot answer, the scan raises
:class:`~tocsin.scan.ScanError` and the message is not sent unscanned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tocsin.config import Config
from tocsin.errors import ConfigError
from tocsin.hookspecs import hookimpl
from tocsin.plugins.clamav.clamd import ClamdAddress, scan_bytes
from tocsin.scan import ScanFinding, ScanPart

NAME = "ClamAV"


def parse_address(section: Mapping[str, Any]) -> ClamdAddress:
    """The ``[clamav]`` section as an address; :class:`ConfigError` naming a bad key."""
    if unknown := set(section) - {"socket", "host", "port", "timeout"}:
        raise ConfigError(f"clamav: unknown key(s) {sorted(unknown)}")
    socket, host = section.get("socket", ""), section.get("host", "")
    if bool(socket) == bool(host):
        raise ConfigError("clamav: give either socket (a Unix socket path) or host (and port)")
    port, timeout = section.get("port", 3310), section.get("timeout", 30)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"clamav.port: {port!r} is not a TCP port")
    if not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"clamav.timeout: {timeout!r} is not a positive number of seconds")
    return ClamdAddress(socket=str(socket), host=str(host), port=port, timeout=float(timeout))


class ClamAVScanner:
    """A scanner bound to one clamd; registered as a plugin object by :func:`configure`."""

    def __init__(self, address: ClamdAddress) -> None:
        self.address = address

    async def scan(self, parts: Sequence[ScanPart]) -> ScanFinding | None:
        for part in parts:
            verdict = await scan_bytes(self.address, part.data)
            if verdict.infected:
                return ScanFinding(scanner=NAME, part=part.name, signature=verdict.signature)
        return None

    @hookimpl
    async def tocsin_scan_message(self, channel: str, parts: Sequence[ScanPart]) -> ScanFinding | None:
        return await self.scan(parts)


_active: list[ClamAVScanner] = []


@hookimpl
def tocsin_configure(config: Config) -> None:
    """Validate ``[clamav]`` and bind the scanner to it (no section: inactive)."""
    _active.clear()
    section = config.section("clamav")
    if section:
        _active.append(ClamAVScanner(parse_address(section)))


@hookimpl
def tocsin_scan_message(channel: str, parts: Sequence[ScanPart]) -> Any:
    """Scan with the configured clamd; ``None`` (nothing to say) when not configured."""
    return _active[0].scan(parts) if _active else None
