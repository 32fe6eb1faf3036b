"""USSD requests (balance checks, ``*100#``) on a :class:`~tocsin.hal.modem.Modem`."""

from __future__ import annotations

import asyncio
import re

from tocsin.hal.errors import AtError, AtTimeout
from tocsin.hal.modem import Modem
from tocsin.hal.session import Urc

_CUSD = re.compile(r'^(\d)(?:,"(.*)"(?:,(\d+))?)?$', re.S)


def decode_cusd(value: str) -> str:
    """The text of a ``+CUSD: m,"text",dcs`` value (UCS-2 hex when dcs is 72)."""
    match = _CUSD.match(value.strip())
    if not match:
        return value
    text, dcs = match.group(2) or "", match.group(3)
    if dcs == "72" and re.fullmatch(r"(?:[0-9A-Fa-f]{4})+", text):
        return bytes.fromhex(text).decode("utf-16-be", "replace")
    return text


async def ussd(modem: Modem, code: str, *, timeout: float = 30.0) -> str:
    """Send USSD ``code`` and return the network's answer text."""
    if not re.fullmatch(r"[0-9*#]+", code):
        raise ValueError(f"{code!r} is not a USSD code (digits, * and #)")
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def on_urc(urc: Urc) -> None:
        if urc.name == "+CUSD" and not answer.done():
            answer.set_result(urc.value)

    unsubscribe = modem.subscribe(on_urc)
    try:
        response = await modem.command(f'AT+CUSD=1,"{code}",15', timeout=timeout)
        inline = response.prefixed("+CUSD")
        if inline:
            return decode_cusd(inline[0])
        try:
            value = await asyncio.wait_for(answer, timeout)
        except TimeoutError:
            raise AtTimeout(f"{modem.device}: no USSD answer to {code} within {timeout:g} s") from None
        if value.startswith("4"):
            raise AtError(f'AT+CUSD=1,"{code}"', "ERROR", None, "USSD operation not supported")
        return decode_cusd(value)
    finally:
        unsubscribe()
