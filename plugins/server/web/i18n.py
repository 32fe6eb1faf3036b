"""One translation catalogue (Babel / gettext) for every label of the dashboard.

Messages are written in English in the templates and the code; ``locale/<lang>/
LC_MESSAGES/messages.po`` translates them. The catalogue is compiled in memory when the
server starts (no build step, never a stale ``.mo``). The language is the user's setting,
else the browser's ``Accept-Language``, else the configured default.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from tocsin.plugins.server.settings import LANGUAGES

LOCALE_DIR = Path(__file__).parent.parent / "locale"
DOMAIN = "messages"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language`` (English needs none)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == "en" or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def from_accept_language(header: str) -> str | None:
    """The best of our languages in an ``Accept-Language`` header, or ``None``."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else None


def pick_language(user_language: str, accept_language: str, default: str) -> str:
    if user_language in LANGUAGES:
        return user_language
    return from_accept_language(accept_language) or default
