"""Checks made before anything is written: an alert that cannot be sent is refused
whole, with a message naming the problem."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from tocsin.engine.audience import ResolvedAudience, count_hint, pages, resolve
from tocsin.engine.templates import check_alert_templates
from tocsin.errors import PluginError, ValidationError
from tocsin.model import Alert, Audience
from tocsin.registry import Registry
from tocsin.status import StatusMachine
from tocsin.store import Store


def _body_problem(alert: Alert) -> str | None:
    for message in alert.messages:
        if not (message.text.strip() or message.html.strip() or message.audio_url.strip()):
            return f"the message for {message.means} is empty"
        if message.means == "email" and not message.subject.strip():
            return "the message for email has no subject"
        if message.repeat < 1:
            return f"the message for {message.means}: repeat must be at least 1"
    return None


def check_alert(
    alert: Alert, registry: Registry, served: Collection[str]
) -> tuple[dict[str, StatusMachine], set[str]]:
    """Refuse an alert that cannot be sent; returns its machines by means and the
    ``attributes`` keys its templates need from every contact."""
    if not alert.title.strip():
        raise ValidationError("the alert has no title")
    if not alert.messages:
        raise ValidationError("the alert has no means: give at least one message (call, sms, email...)")
    means = [m.means for m in alert.messages]
    if dupes := sorted({m for m in means if means.count(m) > 1}):
        raise ValidationError(f"the alert has more than one message for {', '.join(dupes)}")
    machines: dict[str, StatusMachine] = {}
    for name in means:
        try:
            machines[name] = registry.machine(name)
        except PluginError as exc:
            raise ValidationError(str(exc)) from None
        if name not in served:
            known = ", ".join(sorted(served)) or "none"
            raise ValidationError(
                f"no channel is configured for means {name!r} (means with a channel: {known}); "
                f"add a [channels.<name>] section whose type sends {name}"
            )
    if problem := _body_problem(alert):
        raise ValidationError(problem)
    for offsets, where in ((alert.reminder_offsets, "alert"), (alert.category.reminder_offsets, "category")):
        if offsets is not None and (
            any(o < dt.timedelta(0) for o in offsets) or list(offsets) != sorted(offsets)
        ):
            raise ValidationError(f"{where} reminder offsets must be positive and in increasing order")
    if alert.plan is not None:
        if not alert.plan.steps or alert.plan.cycles < 1:
            raise ValidationError("the escalation plan needs at least one step and one cycle")
        if unknown := sorted({s.means for s in alert.plan.steps} - set(means)):
            raise ValidationError(
                f"the escalation plan uses {', '.join(unknown)} but the alert has no message for it"
            )
        if any(s.after < dt.timedelta(0) for s in alert.plan.steps):
            raise ValidationError("an escalation step cannot start before its cycle")
    if alert.target_confirmations is not None and alert.target_confirmations < 1:
        raise ValidationError("the alert's target must be at least 1 confirmed contact")
    keys = check_alert_templates(alert)
    return machines, keys


def check_audience(
    store: Store, audience: Audience, attribute_keys: Collection[str], page_size: int = 1000
) -> ResolvedAudience:
    """Refuse an audience that names nothing, nobody, or contacts the templates cannot
    be rendered for (a missing ``attributes`` key)."""
    resolved = resolve(store, audience)
    if not count_hint(store, resolved):
        raise ValidationError("the audience is empty: its groups have no members")
    if attribute_keys:
        lacking: list[str] = []
        for ids in pages(store, resolved, page_size):
            for contact in store.contacts.load(ids).values():
                missing = sorted(k for k in attribute_keys if k not in contact.attributes)
                if missing:
                    lacking.append(f"contact {contact.id} lacks {', '.join(missing)}")
            if len(lacking) >= 10:
                break
        if lacking:
            raise ValidationError(
                "template error: the messages use attributes some contacts do not have: "
                + "; ".join(lacking[:10])
            )
    return resolved


def served_means(channels: Mapping[str, str]) -> set[str]:
    """The means that have a channel, from a means -> channel routing table."""
    return set(channels)


__all__ = ["check_alert", "check_audience", "served_means"]
