"""How the Twilio simulator plays a call: fetch TwiML, speak it, press the scripted digit.

A small TwiML interpreter (``Say``, ``Pause``, ``Play``, ``Gather``, ``Redirect``,
``Hangup``) driven by the call's scenario. Speaking takes simulated time (words × a
per-word delay, scaled), so callbacks keep a realistic order and spacing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from xml.etree import ElementTree as ET

from attrs import define

from tocsin.testing.twilio_resources import CallRecord
from tocsin.testing.twilio_scenarios import Scenario

MAX_DOCUMENTS = 20
WORD_SECONDS = 0.3

Fetch = Callable[[str, str, Mapping[str, str]], Awaitable["str | None"]]
"""``fetch(url, method, extra_params)``: POST the call's parameters (plus extras), signed;
the TwiML answered, or ``None`` when the server refused or failed."""


@define
class Player:
    """Plays the TwiML of one answered call."""

    call: CallRecord
    scenario: Scenario
    fetch: Fetch
    sleep: Callable[[float], Awaitable[None]]
    listener: str = "human"
    """``human``, ``machine`` (voicemail) or ``fax``: only a person presses digits."""

    @property
    def presses(self) -> str | None:
        if self.listener == "human" and self.scenario.outcome == "press" and not self.call.digits:
            return str(self.scenario.argument)
        return None

    async def run(self) -> None:
        """Fetch the call's TwiML and play documents until one hangs up or ends."""
        document = await self.fetch(self.call.url, self.call.method, {})
        self.call.twiml_fetches += 1
        for _ in range(MAX_DOCUMENTS):
            if document is None or self.listener == "fax":
                return
            try:
                root = ET.fromstring(document)
            except ET.ParseError:
                return
            document = await self._play(root)

    async def _say(self, verb: ET.Element) -> None:
        loops = int(verb.get("loop", "1") or 1)
        text = (verb.text or "").strip()
        for _ in range(max(1, loops)):
            self.call.spoken.append((verb.get("language", "en-US"), text))
            await self.sleep(WORD_SECONDS * max(1, len(text.split())))

    async def _play(self, root: ET.Element) -> str | None:
        """Play one document; the next document to play, or ``None`` when the call ends."""
        for verb in root:
            if verb.tag == "Say":
                await self._say(verb)
            elif verb.tag == "Pause":
                await self.sleep(float(verb.get("length", "1") or 1))
            elif verb.tag == "Play":
                self.call.spoken.append(("audio", (verb.text or "").strip()))
                await self.sleep(2.0)
            elif verb.tag == "Hangup":
                return None
            elif verb.tag == "Redirect":
                return await self.fetch((verb.text or "").strip(), verb.get("method", "POST"), {})
            elif verb.tag == "Gather":
                answer = await self._gather(verb)
                if answer is not None:
                    return answer
        return None

    async def _gather(self, gather: ET.Element) -> str | None:
        """Play the ``Gather``'s children; a person who means to press does it once the
        message and the prompt (the first two ``Say``) have been heard."""
        says = sum(1 for child in gather if child.tag == "Say")
        heard = 0
        for child in gather:
            if child.tag == "Say":
                await self._say(child)
                heard += 1
            elif child.tag == "Pause":
                await self.sleep(float(child.get("length", "1") or 1))
            digit = self.presses if heard >= min(2, says) else None
            if digit is not None:
                self.call.digits.append(digit)
                action = gather.get("action") or self.call.url
                return await self.fetch(action, gather.get("method", "POST"), {"Digits": digit})
        await self.sleep(float(gather.get("timeout", "5") or 5))
        return None
