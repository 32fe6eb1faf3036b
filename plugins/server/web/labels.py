"""Words the pages show that come from data (states, means, statuses, periods, roles).

They are listed here, marked with ``N_``, so that the catalogue extraction finds them;
the templates translate them with ``_(value)``.
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message


LABELS = (
    # means
    N_("call"), N_("sms"), N_("email"), N_("phone"), N_("mobile"),
    # alert states and attempt kinds
    N_("draft"), N_("sending"), N_("sent"), N_("finished"), N_("cancelled"),
    N_("initial"), N_("reminder"), N_("recontact"), N_("escalation"), N_("verification"),
    # outcomes
    N_("contacted"), N_("in progress"), N_("not contacted"),
    # roles
    N_("administrator"), N_("operator"), N_("agent"),
    # channel health
    N_("ok"), N_("degraded"), N_("down"),
    # statuses, as users know them
    N_("waiting"), N_("queued"), N_("started"), N_("ringing"), N_("busy"), N_("fax"),
    N_("voicemail"), N_("completed"), N_("confirmed"), N_("no answer"), N_("failed"),
    N_("accepted"), N_("received (delivered)"), N_("undelivered"), N_("opened"),
    N_("rebound (hard bounce)"), N_("marked as spam"), N_("rejected"), N_("not sent"),
    # operations and their results
    N_("contacts-import"), N_("alert-send"), N_("export"), N_("running"), N_("done"),
    N_("reading"), N_("writing"), N_("rows"), N_("created"), N_("updated"), N_("empty_rows"),
    N_("group"), N_("filename"), N_("size"),
    # periods of the communications log
    N_("today"), N_("this-week"), N_("last-week"), N_("this-month"), N_("last-month"),
    N_("last-7-days"), N_("last-14-days"), N_("last-30-days"), N_("custom"),
)
