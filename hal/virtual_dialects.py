"""How each family of modem introduces itself and spells its extensions, for the
virtual modem: identification strings, the commands it accepts beyond 3GPP, and the
form of its call-progress, speech and DTMF reports."""

from __future__ import annotations

from attrs import frozen


@frozen
class Dialect:
    name: str
    manufacturer: str
    model: str
    revision: str
    voice: bool = True
    call_urc: str = ""  # "+CLCC" or "^DSCI", switched on by call_urc_on
    call_urc_on: str = ""
    tts: str = ""  # "AT+CTTS" / "AT+QTTS"
    tts_done: str = ""  # "+CTTS: 0" / "+QTTS: 0"
    dtmf_on: str = ""  # "AT+DDET=1" / "AT+QTONEDET=1"
    dtmf_ascii: bool = False  # Quectel reports digits as ASCII codes
    dtmf_urc: str = ""
    chatter: str = ""  # an unsolicited line the modem emits while it works
    audio: str = ""  # "AT+CREC": mode 4 plays a stored file into the call, mode 5 stops
    audio_done: str = ""  # "+CREC: 0" once the file has played
    audio_missing: str = ""  # the error for a file that is not stored


DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        Dialect("simcom", "SIMCOM_Ltd", "SIMCOM_SIM800L", "Revision:1418B05SIM800L24",
                call_urc="+CLCC", call_urc_on="AT+CLCC=1", tts="AT+CTTS", tts_done="+CTTS: 0",
                dtmf_on="AT+DDET=1", dtmf_urc="+DTMF", audio="AT+CREC", audio_done="+CREC: 0",
                audio_missing="+CME ERROR: 5008"),
        Dialect("quectel", "Quectel", "EC25", "EC25EFAR06A06M4G",
                call_urc="^DSCI", call_urc_on="AT^DSCI=1", tts="AT+QTTS", tts_done="+QTTS: 0",
                dtmf_on="AT+QTONEDET=1", dtmf_ascii=True, dtmf_urc="+QTONEDET"),
        Dialect("huawei", "huawei", "E3372", "22.323.01.00.00", voice=False,
                chatter="^RSSI: 18"),
        Dialect("generic", "Tocsin Labs", "Virtual 3GPP modem", "1.0"),
    )
}
