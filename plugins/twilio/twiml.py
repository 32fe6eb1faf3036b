"""TwiML for a Tocsin call: the message in the contact's language, repeated, and for
categories that require it a one-digit ``Gather`` (``1`` confirms).

What a call says travels in the (signed) URL the provider fetches, so any server process
can answer it without shared memory: :func:`script_query` writes it, :func:`parse_query`
reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree import ElementTree as ET

from attrs import frozen

from tocsin.errors import ValidationError

CONFIRM_DIGIT = "1"
MAX_TEXT = 3000

PROMPTS: Mapping[str, str] = {
    "en": "To confirm that you received this message, press 1.",
    "fr": "Pour confirmer la réception de ce message, appuyez sur 1.",
    "de": "Um den Empfang dieser Nachricht zu bestätigen, drücken Sie die 1.",
    "es": "Para confirmar que ha recibido este mensaje, pulse 1.",
    "it": "Per confermare di aver ricevuto questo messaggio, premete 1.",
    "nl": "Druk op 1 om te bevestigen dat u dit bericht hebt ontvangen.",
}
THANKS: Mapping[str, str] = {
    "en": "Thank you, your confirmation has been recorded. Goodbye.",
    "fr": "Merci, votre confirmation a été enregistrée. Au revoir.",
    "de": "Danke, Ihre Bestätigung wurde gespeichert. Auf Wiederhören.",
    "es": "Gracias, su confirmación ha sido registrada. Adiós.",
    "it": "Grazie, la sua conferma è stata registrata. Arrivederci.",
    "nl": "Dank u, uw bevestiging is geregistreerd. Tot ziens.",
}
REGIONS: Mapping[str, str] = {
    "en": "en-US", "fr": "fr-FR", "de": "de-DE", "es": "es-ES", "it": "it-IT", "nl": "nl-NL",
    "pt": "pt-PT", "pl": "pl-PL", "sv": "sv-SE", "da": "da-DK", "nb": "nb-NO", "fi": "fi-FI",
    "ja": "ja-JP", "zh": "zh-CN", "ru": "ru-RU", "ca": "ca-ES", "ko": "ko-KR",
}


def say_language(contact_language: str, default: str) -> str:
    """The ``Say`` language for a contact: ``fr`` → ``fr-FR``; regional tags kept."""
    tag = contact_language.strip().replace("_", "-")
    if not tag:
        return default
    if "-" in tag:
        lang, region = tag.split("-", 1)
        return f"{lang.lower()}-{region.upper()}"
    return REGIONS.get(tag.lower(), default)


@frozen
class CallScript:
    """What one call says, and whether it waits for the confirming digit."""

    attempt_id: int | None
    text: str
    language: str
    repeat: int = 2
    confirm: bool = False

    @property
    def base_language(self) -> str:
        return self.language.split("-")[0].lower()


def script_query(script: CallScript) -> dict[str, str]:
    """The query parameters that carry ``script`` in the TwiML URL."""
    if not script.text.strip():
        raise ValidationError("a call needs a message to speak (the call script is empty)")
    if len(script.text) > MAX_TEXT:
        raise ValidationError(f"a call script is limited to {MAX_TEXT} characters, got {len(script.text)}")
    query = {"lang": script.language, "repeat": str(script.repeat), "confirm": "1" if script.confirm else "0"}
    if script.attempt_id is not None:
        query["attempt"] = str(script.attempt_id)
    query["text"] = script.text
    return query


def parse_query(query: Mapping[str, str]) -> CallScript:
    """The script a TwiML URL carries; :class:`ValidationError` naming a bad parameter."""
    text = query.get("text", "")
    if not text:
        raise ValidationError("the TwiML URL carries no 'text'")
    attempt = query.get("attempt")
    if attempt is not None and not attempt.isdigit():
        raise ValidationError(f"'attempt' must be a number, got {attempt!r}")
    repeat = query.get("repeat", "1")
    if not repeat.isdigit() or not 1 <= int(repeat) <= 10:
        raise ValidationError(f"'repeat' must be 1 to 10, got {repeat!r}")
    return CallScript(
        attempt_id=int(attempt) if attempt is not None else None,
        text=text,
        language=query.get("lang", "en-US") or "en-US",
        repeat=int(repeat),
        confirm=query.get("confirm") == "1",
    )


def _say(parent: ET.Element, text: str, language: str, voice: str) -> None:
    say = ET.SubElement(parent, "Say", {"language": language, **({"voice": voice} if voice else {})})
    say.text = text


def _document(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def call_twiml(script: CallScript, *, gather_url: str, voice: str = "", prompt: str = "") -> str:
    """The TwiML of a call answered by a person."""
    root = ET.Element("Response")
    if script.confirm:
        target = ET.SubElement(
            root,
            "Gather",
            {"input": "dtmf", "numDigits": "1", "timeout": "5", "action": gather_url, "method": "POST"},
        )
    else:
        target = root
    prompt = prompt or PROMPTS.get(script.base_language, PROMPTS["en"])
    for turn in range(script.repeat):
        if turn:
            ET.SubElement(target, "Pause", {"length": "1"})
        _say(target, script.text, script.language, voice)
        if script.confirm:
            _say(target, prompt, script.language, voice)
    ET.SubElement(root, "Hangup")
    return _document(root)


def voicemail_twiml(script: CallScript, *, voice: str = "") -> str:
    """The TwiML for an answering machine: the message once, after the beep, then hang up."""
    root = ET.Element("Response")
    _say(root, script.text, script.language, voice)
    ET.SubElement(root, "Hangup")
    return _document(root)


def thanks_twiml(script: CallScript, *, voice: str = "", thanks: str = "") -> str:
    """The TwiML after the confirming digit."""
    root = ET.Element("Response")
    _say(root, thanks or THANKS.get(script.base_language, THANKS["en"]), script.language, voice)
    ET.SubElement(root, "Hangup")
    return _document(root)


def empty_twiml() -> str:
    """A TwiML document that does nothing (an inbound SMS gets no automatic reply)."""
    return _document(ET.Element("Response"))


def hangup_twiml() -> str:
    root = ET.Element("Response")
    ET.SubElement(root, "Hangup")
    return _document(root)
