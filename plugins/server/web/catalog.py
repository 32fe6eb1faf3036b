"""Keeping the translation catalogue in step with the templates and the code.

``python -m tocsin.plugins.server.web.catalog`` extracts every message (templates,
Python, the data words of :mod:`labels`) and updates ``locale/fr/LC_MESSAGES/messages.po``,
keeping existing translations; a test fails when a message has no French translation.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from tocsin.plugins.server.web.i18n import DOMAIN, LOCALE_DIR

PACKAGE = Path(__file__).parent.parent
METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extract() -> list[str]:
    """Every message id, in the order first met."""
    found: dict[str, None] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=METHODS, options_map=OPTIONS
    ):
        if isinstance(message, str):
            found.setdefault(message)
    return list(found)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN)
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


def update(language: str = "fr") -> list[str]:
    """Add new messages (untranslated) and drop vanished ones; returns the untranslated."""
    old = read(language)
    new = Catalog(locale=language, domain=DOMAIN, project="Tocsin", charset="utf-8", fuzzy=False)
    for msgid in extract():
        previous = old.get(msgid)
        new.add(msgid, previous.string if previous is not None else "")
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, new, omit_header=False, sort_output=True, width=100)
    return [str(m.id) for m in new if m.id and not m.string]


if __name__ == "__main__":
    missing = update()
    print(f"{len(missing)} message(s) without a French translation")
    for message in missing:
        print(f"  {message}")
