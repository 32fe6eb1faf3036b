"""Message templates: Jinja2, sandboxed, strict — a missing field is an error, never a blank.

Templates are checked when an alert is created: their syntax, and every variable they
use against the fields a contact offers (:data:`FIELDS`). Keys of ``attributes`` are
free-form, so :func:`attribute_keys` lists the ones a template needs and the engine
checks the audience has them before anything is written. Rendering happens per attempt,
at dispatch, from templates compiled once per alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from attrs import frozen
from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from tocsin.channel import RenderedMessage
from tocsin.errors import ValidationError
from tocsin.model import Alert, Contact, Message

FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "full_name",
        "external_id",
        "language",
        "organisation",
        "address",
        "city",
        "postal_code",
        "department",
        "region",
        "country",
        "attributes",
        "alert_title",
        "category",
    }
)
"""The variables a message template may use."""

TEXT_PARTS = ("text", "subject", "html")

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_HTML_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)


class TemplateError(ValidationError):
    """A message template is invalid or cannot be rendered for a contact."""


def _is_constant(source: str) -> bool:
    return "{" not in source


def _parse(source: str, where: str) -> nodes.Template:
    try:
        return _ENV.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{where}: template error at line {exc.lineno}: {exc.message}") from None


def attribute_keys(tree: nodes.Template) -> set[str]:
    """Keys of ``attributes`` a template reads (``attributes.x`` or ``attributes['x']``)."""
    keys: set[str] = set()
    for getattr_node in tree.find_all(nodes.Getattr):
        target = getattr_node.node
        if isinstance(target, nodes.Name) and target.name == "attributes":
            keys.add(getattr_node.attr)
    for getitem_node in tree.find_all(nodes.Getitem):
        target, arg = getitem_node.node, getitem_node.arg
        named = isinstance(target, nodes.Name) and target.name == "attributes"
        if named and isinstance(arg, nodes.Const) and isinstance(arg.value, str):
            keys.add(arg.value)
    return keys


def check_message(message: Message, where: str) -> set[str]:
    """Check one message's templates; returns the attribute keys they need."""
    keys: set[str] = set()
    for part in TEXT_PARTS:
        source = getattr(message, part)
        if not source or _is_constant(source):
            continue
        tree = _parse(source, f"{where} {part}")
        unknown = meta.find_undeclared_variables(tree) - FIELDS
        if unknown:
            raise TemplateError(
                f"{where} {part}: unknown field(s) {', '.join(sorted(unknown))}; "
                f"a template may use {', '.join(sorted(FIELDS))}"
            )
        keys |= attribute_keys(tree)
    return keys


def check_alert_templates(alert: Alert) -> set[str]:
    """Check every message of ``alert``; returns the attribute keys the audience needs."""
    keys: set[str] = set()
    for message in alert.messages:
        keys |= check_message(message, f"message for {message.means}")
    return keys


def contact_fields(contact: Contact, alert: Alert) -> dict[str, Any]:
    """The variables a template sees for ``contact``."""
    a = contact.address
    return {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "external_id": contact.external_id or "",
        "language": contact.language,
        "organisation": contact.organisation,
        "address": a,
        "city": a.city,
        "postal_code": a.postal_code,
        "department": a.department,
        "region": a.region,
        "country": a.country,
        "attributes": dict(contact.attributes),
        "alert_title": alert.title,
        "category": alert.category.name,
    }


@frozen
class CompiledMessage:
    """One means' message with its templates compiled (constant parts kept as text)."""

    message: Message
    parts: Mapping[str, Any]

    def render(self, fields: Mapping[str, Any]) -> RenderedMessage:
        out: dict[str, str] = {}
        for part in TEXT_PARTS:
            compiled = self.parts.get(part)
            if compiled is None:
                out[part] = getattr(self.message, part)
                continue
            try:
                out[part] = compiled.render(fields)
            except (UndefinedError, SecurityError) as exc:
                raise TemplateError(f"message for {self.message.means} {part}: {exc}") from None
        return RenderedMessage(
            text=out["text"],
            subject=out["subject"],
            html=out["html"],
            audio_url=self.message.audio_url,
            repeat=self.message.repeat,
        )


class _Substitution:
    """A template that only inserts plain fields (``Hello {{ first_name }}``): rendered by
    joining strings, with the same strictness (a missing field is an error)."""

    def __init__(self, pieces: list[tuple[bool, str]]) -> None:
        self.pieces = pieces

    def render(self, fields: Mapping[str, Any]) -> str:
        out = []
        for is_field, value in self.pieces:
            if not is_field:
                out.append(value)
            elif value in fields:
                out.append(str(fields[value]))
            else:
                raise UndefinedError(f"{value!r} is undefined")
        return "".join(out)


def _substitution(source: str) -> _Substitution | None:
    """The fast form of ``source`` when it is only text and ``{{ name }}`` fields."""
    body = _ENV.parse(source).body
    if len(body) != 1 or not isinstance(body[0], nodes.Output):
        return None
    pieces: list[tuple[bool, str]] = []
    for node in body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            pieces.append((False, node.data))
        elif isinstance(node, nodes.Name) and node.ctx == "load" and node.name in FIELDS:
            pieces.append((True, node.name))
        else:
            return None
    return _Substitution(pieces)


def compile_message(message: Message) -> CompiledMessage:
    parts: dict[str, Any] = {}
    for part in TEXT_PARTS:
        source = getattr(message, part)
        if source and not _is_constant(source):
            fast = None if part == "html" else _substitution(source)  # html autoescapes: Jinja2 only
            env = _HTML_ENV if part == "html" else _ENV
            parts[part] = fast or env.from_string(source)
    return CompiledMessage(message, parts)


def compile_alert(alert: Alert) -> dict[str, CompiledMessage]:
    """Compiled messages of ``alert`` by means."""
    return {m.means: compile_message(m) for m in alert.messages}


def needs_contact(compiled: Iterable[CompiledMessage]) -> bool:
    """Whether rendering needs the contact's fields (some template is not constant)."""
    return any(c.parts for c in compiled)


__all__ = [
    "FIELDS",
    "CompiledMessage",
    "TemplateError",
    "attribute_keys",
    "check_alert_templates",
    "check_message",
    "compile_alert",
    "contact_fields",
    "needs_contact",
]
