"""Which statuses count as *reached*: a policy, chosen by name in configuration.

The default policy takes each machine's declared ``reached`` states, with these
documented rules:

- a category that requires confirmation counts an attempt only when it is *confirmed*,
  for every means whose machine has that state: a call when the contact pressed 1 (a
  merely *completed* call is not reached), an SMS when the contact replied with a
  confirmation keyword (a merely *received* SMS is not reached). A means without a
  *confirmed* state (e-mail) keeps its usual reached states: it cannot be confirmed, so
  it counts as it would elsewhere;
- ``count_voicemail = true`` counts a call left on voicemail as reached (off by default;
  never in a category that requires confirmation, since a voicemail cannot press 1);
- ``count_sms_sent = true`` counts an SMS *sent* without a delivery report (off by
  default: with delivery reports on, *received* is the proof; never in a category that
  requires confirmation, where only a reply is);
- ``count_email_sent = true`` counts an e-mail *sent* (on by default: most mail servers
  never report delivery, so *sent* is the best proof an e-mail usually gets; a later
  *rebound* takes it back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from attrs import field, frozen

from tocsin.model import Category
from tocsin.status import StatusMachine


@frozen
class ReachedOptions:
    """The ``[reached]`` configuration section."""

    policy: str = "default"
    count_voicemail: bool = False
    count_sms_sent: bool = False
    count_email_sent: bool = True


@frozen
class ReachedPolicy:
    """``reached(machine, category, options)`` returns the states that count as reached."""

    name: str
    reached: Callable[[StatusMachine, Category, ReachedOptions], frozenset[str]]
    description: str = ""
    extra: Mapping[str, Any] = field(factory=dict)


def default_reached(
    machine: StatusMachine, category: Category, options: ReachedOptions
) -> frozenset[str]:
    """The default policy (see the module documentation)."""
    states = set(machine.reached)
    confirming = category.requires_confirmation and "confirmed" in machine.states
    if confirming:
        states = {"confirmed"}
    # A voicemail cannot press 1: it never counts when the category requires confirmation.
    voicemail = machine.means == "call" and "voicemail" in machine.states
    if voicemail and options.count_voicemail and not confirming:
        states.add("voicemail")
    if machine.means == "sms" and options.count_sms_sent and "sent" in machine.states and not confirming:
        states.add("sent")
    if machine.means == "email" and options.count_email_sent and "sent" in machine.states:
        states.add("sent")
    return frozenset(states)


DEFAULT_POLICY = ReachedPolicy(
    name="default",
    reached=default_reached,
    description="Each machine's reached states; confirmation categories count only confirmed "
    "calls and SMS.",
)
