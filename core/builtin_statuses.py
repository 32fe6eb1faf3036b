"""The status machines of the three built-in means (call, SMS, e-mail) and the default
reached policy.

Registered through the ``tocsin`` entry points, exactly as a third-party plugin would
register a push-notification or fax means. The state names are the ones users know.
"""

from __future__ import annotations

from tocsin.hookspecs import hookimpl
from tocsin.reached import DEFAULT_POLICY, ReachedPolicy
from tocsin.status import StatusMachine

CALL = StatusMachine(
    means="call",
    states=(
        "queued",
        "started",
        "ringing",
        "in progress",
        "busy",
        "fax",
        "voicemail",
        "completed",
        "confirmed",
        "no answer",
        "failed",
    ),
    initial="queued",
    transitions={
        "queued": {"started", "failed"},
        "started": {"ringing", "in progress", "busy", "no answer", "failed"},
        "ringing": {"in progress", "busy", "no answer", "failed"},
        "in progress": {"completed", "confirmed", "voicemail", "fax", "failed"},
    },
    terminal={"busy", "fax", "voicemail", "completed", "confirmed", "no answer", "failed"},
    # The digit can be reported after the hang-up: a completed call becomes confirmed.
    refinements={"completed": {"confirmed"}},
    reached={"completed", "confirmed"},
    address_kinds=("mobile", "phone"),
    description="A voice call; confirmed means the contact pressed 1 while it played.",
)

SMS = StatusMachine(
    means="sms",
    states=("accepted", "queued", "sending", "sent", "received", "undelivered", "failed", "confirmed"),
    initial="accepted",
    transitions={
        "accepted": {"queued", "failed"},
        "queued": {"sending", "failed"},
        "sending": {"sent", "failed"},
        "sent": {"received", "undelivered", "confirmed"},
    },
    terminal={"received", "undelivered", "failed", "confirmed"},
    # A reply keyword (1, OUI, YES) proves the contact read the message. It may come
    # before the status report (networks that report late or never: sent -> confirmed)
    # or after it (received -> confirmed); a report arriving after the reply is absorbed.
    refinements={"received": {"confirmed"}},
    reached={"received", "confirmed"},
    labels={"received": "received (delivered)", "confirmed": "confirmed (replied)"},
    address_kinds=("mobile",),
    description="A text message; received means the handset acknowledged delivery, "
    "confirmed that the contact replied with a confirmation keyword.",
)

EMAIL = StatusMachine(
    means="email",
    states=("sent", "received", "opened", "rebound", "marked as spam", "rejected", "not sent"),
    # The first status a channel reports is "sent" (250 after DATA), or "not sent" /
    # "rejected" when the message is refused before or during the SMTP dialogue.
    initial="sent",
    entry={"not sent", "rejected"},
    transitions={"sent": {"received", "opened", "rebound", "marked as spam", "rejected"}},
    terminal={"received", "opened", "rebound", "marked as spam", "rejected", "not sent"},
    refinements={"received": {"opened", "marked as spam"}, "opened": {"marked as spam"}},
    # A spam complaint proves the message reached the mailbox and its reader: it counts as
    # reached (a refinement never takes a reached state back), and nobody who complained
    # is sent the alert again.
    reached={"received", "opened", "marked as spam"},
    labels={"received": "received (delivered)", "rebound": "rebound (hard bounce)"},
    address_kinds=("email",),
    description="An e-mail; opened is approximate (tracking pixel), rebound a hard bounce.",
)


@hookimpl
def tocsin_register_status_machines() -> list[StatusMachine]:
    return [CALL, SMS, EMAIL]


@hookimpl
def tocsin_register_reached_policies() -> list[ReachedPolicy]:
    return [DEFAULT_POLICY]
