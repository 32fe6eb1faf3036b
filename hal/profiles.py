"""Modem profiles: what the standards leave open, per modem family.

A profile declares what the modem can do (SMS, voice, text-to-speech, audio-file
playback, DTMF detection, delivery reports) and how: the commands that switch its
indications on, how it reports call progress, how it speaks or plays a stored file and
how it reports digits. Channels check a profile's
capabilities when they start and refuse what it lacks. To add a modem family, add a
:class:`Profile` to :data:`PROFILES` (see ``docs/hal.md``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping

from attrs import field, frozen

from tocsin.hal.errors import CapabilityError
from tocsin.hal.session import Urc


class CallEvents(enum.StrEnum):
    """How a modem tells call progress."""

    CLCC_URC = "clcc"  # +CLCC: lines pushed on every change (SIMCom AT+CLCC=1)
    DSCI_URC = "dsci"  # ^DSCI: lines pushed on every change (Quectel AT^DSCI=1)
    POLL = "poll"  # only AT+CLCC on request (3GPP)


@frozen
class ModemCapabilities:
    sms: bool = True
    voice: bool = False
    tts: bool = False
    audio: bool = False
    """Plays an audio file stored on the modem into the call (a recorded message)."""
    dtmf: bool = False
    delivery_reports: bool = True
    voicemail_detection: bool = False
    fax_detection: bool = False


def _ascii_or_ucs2(text: str) -> tuple[int, str]:
    """(mode, payload) for SIMCom/Quectel TTS: 2 = ASCII text, 1 = UCS-2 hex."""
    if text.isascii() and '"' not in text:
        return 2, text
    return 1, text.encode("utf-16-be").hex().upper()


def simcom_tts(text: str) -> str:
    mode, payload = _ascii_or_ucs2(text)
    return f'AT+CTTS={mode},"{payload}"'


def quectel_tts(text: str) -> str:
    mode, payload = _ascii_or_ucs2(text)
    return f'AT+QTTS={mode},"{payload}"'


MAX_AUDIO_NAME = 200


def check_audio_name(name: str) -> str | None:
    """Why ``name`` cannot be given to a modem as a file to play, or ``None``."""
    if not name or len(name) > MAX_AUDIO_NAME:
        return f"an audio file name is 1 to {MAX_AUDIO_NAME} characters, got {len(name)}"
    if '"' in name or not name.isprintable():
        return f"the audio file name {name!r} has a quote or a control character"
    return None


def simcom_audio(path: str, volume: int) -> str:
    """SIM800's ``AT+CREC=4,"<file>",<channel>,<level>``: play a stored AMR/WAV file
    into the call on the main channel (0) at ``volume`` (0-100); ``+CREC: 0`` follows
    when it has played."""
    return f'AT+CREC=4,"{path}",0,{volume}'


SIMCOM_AUDIO_ERRORS = {
    5004: "audio file format error",
    5005: "file operation failure",
    5006: "the audio file is empty",
    5007: "wrong audio file size",
    5008: "the audio file does not exist on the modem",
}
"""SIMCom's manufacturer-specific ``+CME ERROR`` codes of ``AT+CREC``."""


def dtmf_char(urc: Urc) -> str:
    """The digit of ``+DTMF: 1`` / ``+RXDTMF: 1``."""
    return urc.value.split(",")[0].strip().strip('"')


def dtmf_ascii(urc: Urc) -> str:
    """The digit of Quectel's ``+QTONEDET: 49`` (an ASCII code)."""
    raw = urc.value.split(",")[0].strip()
    return chr(int(raw)) if raw.isdigit() else raw


@frozen
class Profile:
    """One modem family."""

    name: str
    description: str
    match: str  # regex searched in "<manufacturer> <model>", case-insensitive
    capabilities: ModemCapabilities
    setup: tuple[str, ...] = ()
    call_events: CallEvents = CallEvents.POLL
    tts_command: Callable[[str], str] | None = None
    tts_done: str = ""
    tts_stop: str = ""
    tts_languages: tuple[str, ...] = ()
    dtmf_urc: str = ""
    dtmf_digit: Callable[[Urc], str] = dtmf_char
    audio_command: Callable[[str, int], str] | None = None
    audio_done: str = ""
    audio_stop: str = ""
    audio_dir: str = ""
    """Where the modem keeps audio files; a bare file name is looked up there."""
    audio_errors: Mapping[int, str] = field(factory=dict)

    def audio_path(self, name: str) -> str:
        """The modem path of audio file ``name`` (a path with a drive or a directory is
        kept as it is)."""
        if ":" in name or "/" in name or "\\" in name:
            return name
        return self.audio_dir + name

    def require(self, *needs: str) -> None:
        """Raise :class:`CapabilityError` naming every capability in ``needs`` it lacks."""
        missing = [n for n in needs if not getattr(self.capabilities, n)]
        if missing:
            raise CapabilityError(
                f"modem profile {self.name!r} ({self.description}) lacks: {', '.join(missing)}"
            )


GENERIC = Profile(
    name="generic",
    description="any 3GPP TS 27.007/27.005 modem",
    match=r"$^",
    capabilities=ModemCapabilities(sms=True, voice=True),
)

SIMCOM = Profile(
    name="simcom",
    description="SIMCom SIM800 / SIM7600",
    match=r"simcom|sim800|sim7600|sim5320",
    capabilities=ModemCapabilities(sms=True, voice=True, tts=True, audio=True, dtmf=True),
    setup=("AT+CLCC=1", "AT+DDET=1"),
    call_events=CallEvents.CLCC_URC,
    tts_command=simcom_tts,
    tts_done="+CTTS",
    tts_stop="AT+CTTS=0",
    tts_languages=("en", "zh"),
    dtmf_urc="+DTMF",
    audio_command=simcom_audio,
    audio_done="+CREC",
    audio_stop="AT+CREC=5",
    audio_dir="C:\\User\\",
    audio_errors=SIMCOM_AUDIO_ERRORS,
)

QUECTEL = Profile(
    name="quectel",
    description="Quectel EC25 / M35",
    match=r"quectel|ec25|ec21|m35|uc15",
    capabilities=ModemCapabilities(sms=True, voice=True, tts=True, dtmf=True),
    setup=("AT^DSCI=1", "AT+QTONEDET=1"),
    call_events=CallEvents.DSCI_URC,
    tts_command=quectel_tts,
    tts_done="+QTTS",
    tts_stop="AT+QTTS=0",
    tts_languages=("en", "zh"),
    dtmf_urc="+QTONEDET",
    dtmf_digit=dtmf_ascii,
)

HUAWEI = Profile(
    name="huawei",
    description="Huawei data stick (E3372, E173...): SMS only",
    match=r"huawei|e3372|e173|e1750|e303",
    capabilities=ModemCapabilities(sms=True, voice=False),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (SIMCOM, QUECTEL, HUAWEI, GENERIC)}


def profile_named(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise CapabilityError(
            f"unknown modem profile {name!r} (known: {', '.join(sorted(PROFILES))})"
        ) from None


def detect_profile(manufacturer: str, model: str) -> Profile:
    """The profile whose pattern matches the identification, else the generic one."""
    ident = f"{manufacturer} {model}"
    for profile in PROFILES.values():
        if re.search(profile.match, ident, re.IGNORECASE):
            return profile
    return GENERIC
