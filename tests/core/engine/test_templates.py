"""Message templates: checked up front, strict, and the fast path renders exactly as
Jinja2 does."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given

from tocsin.engine.templates import (
    _ENV,
    FIELDS,
    TemplateError,
    attribute_keys,
    check_message,
    compile_message,
    contact_fields,
)
from tocsin.model import Alert, Contact, Message

ALERT = Alert("Flood", [Message("sms", text="x")])
# carriage returns excluded: Jinja2 normalises line endings, and constant texts are kept verbatim
text = st.text(st.characters(blacklist_characters="{}%#\r", blacklist_categories=("Cs",)), max_size=20)
field = st.sampled_from(sorted(FIELDS - {"address", "attributes"}))


@given(st.lists(st.one_of(text, field.map(lambda f: "{{ " + f + " }}")), max_size=6),
       st.text(max_size=10), st.text(max_size=10))
def test_the_fast_path_renders_what_jinja_renders(pieces: list[str], first: str, last: str) -> None:
    source = "".join(pieces) or "x"
    contact = Contact(first_name=first, last_name=last, attributes={"zone": "north"})
    fields = contact_fields(contact, ALERT)
    compiled = compile_message(Message("sms", text=source))
    assert compiled.render(fields).text == _ENV.from_string(source).render(fields)


def test_templates_read_the_contact_and_attributes() -> None:
    message = Message("email", subject="{{ alert_title }}", text="Dear {{ full_name }} ({{ attributes.zone }})",
                      html="<p>{{ first_name }}</p>")
    assert check_message(message, "m") == {"zone"}
    rendered = compile_message(message).render(
        contact_fields(Contact(first_name="A<b>", last_name="B", attributes={"zone": "n"}), ALERT)
    )
    assert (rendered.subject, rendered.text, rendered.html) == ("Flood", "Dear A<b> B (n)", "<p>A&lt;b&gt;</p>")


def test_a_missing_attribute_is_an_error_not_a_blank() -> None:
    compiled = compile_message(Message("sms", text="Zone {{ attributes.zone }}"))
    with pytest.raises(TemplateError, match="zone"):
        compiled.render(contact_fields(Contact(first_name="A"), ALERT))


def test_attribute_keys_are_found_by_attribute_and_by_item() -> None:
    tree = _ENV.parse("{{ attributes.zone }} {{ attributes['floor'] }} {% if attributes.x %}{% endif %}")
    assert attribute_keys(tree) == {"zone", "floor", "x"}


def test_the_sandbox_refuses_unsafe_access() -> None:
    compiled = compile_message(Message("sms", text="{{ first_name.__class__.__mro__ }}"))
    with pytest.raises(TemplateError):
        compiled.render(contact_fields(Contact(first_name="A"), ALERT))
