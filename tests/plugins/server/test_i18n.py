"""One catalogue for every label; the language from the user's setting or the browser."""

from __future__ import annotations

import pytest

from tocsin.plugins.server.web.catalog import extract, read
from tocsin.plugins.server.web.i18n import from_accept_language, pick_language, translations


def test_every_message_of_the_templates_and_the_code_has_a_french_translation() -> None:
    messages = extract()
    assert "Recontact uncontacted citizens" in messages  # templates are scanned
    assert "Wrong username or password." in messages  # and the code
    catalog = read("fr")
    untranslated = [m for m in messages if not (catalog.get(m) and catalog.get(m).string)]
    assert untranslated == []


def test_the_catalogue_is_compiled_in_memory() -> None:
    fr = translations("fr")
    assert fr.gettext("Sign in") == "Connexion"
    assert fr.gettext("Too many failed attempts; try again in %(s)d seconds.") % {"s": 3} == (
        "Trop de tentatives échouées ; réessayez dans 3 secondes.")
    assert translations("en").gettext("Sign in") == "Sign in"


@pytest.mark.parametrize(("header", "expected"), [
    ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
    ("en-GB,en;q=0.9,fr;q=0.5", "en"),
    ("de-DE,de;q=0.9,en;q=0.3", "en"),
    ("de-DE", None),
    ("fr;q=0, en;q=0.1", "en"),
    ("", None),
    ("garbage;;;q=x", None),
])
def test_the_browsers_preferred_language_is_chosen_among_ours(header: str, expected: str | None
                                                               ) -> None:
    assert from_accept_language(header) == expected


def test_the_users_setting_wins_over_the_browser() -> None:
    assert pick_language("en", "fr-FR", "fr") == "en"
    assert pick_language("", "en-GB", "fr") == "en"
    assert pick_language("", "de", "fr") == "fr"
