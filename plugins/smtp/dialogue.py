"""One SMTP transaction on one connection, and what its replies mean for the attempt.

The mapping (the issue's, exactly):

- a permanent refusal (5xx) at ``RCPT`` is *not sent*: the address is bad;
- a permanent refusal at ``MAIL`` or after ``DATA`` (policy, virus, size) is *rejected*,
  with the server's reply kept as the reason;
- a temporary refusal (4xx) at any step is a :class:`TemporaryFailure`: the engine
  retries it with backoff, and records the final failure when its retries run out;
- ``250`` after ``DATA`` is *sent*.

After any refusal the envelope is reset (``RSET``) so the connection can serve the next
message. A connection lost in the middle raises :class:`Interrupted`: nothing was
accepted (SMTP accepts only with the final ``250``), so the caller may send again.
"""

from __future__ import annotations

from contextlib import suppress

import aiosmtplib
from attrs import frozen

from tocsin.channel import Accepted, PermanentFailure, SendResult, TemporaryFailure
from tocsin.plugins.smtp.message import Envelope

SENT = "sent"
NOT_SENT = "not sent"
REJECTED = "rejected"


@frozen
class Interrupted(Exception):
    """The connection failed during the transaction (``stage``: MAIL, RCPT or DATA)."""

    stage: str
    reason: str


def xtext(value: str) -> str:
    """RFC 3461 xtext (for ``ORCPT``): ``+``, ``=`` and non-printables as ``+HH``."""
    return "".join(
        c if 33 <= ord(c) <= 126 and c not in "+=" else "".join(f"+{b:02X}" for b in c.encode())
        for c in value
    )


def refusal(stage: str, code: int, message: str) -> SendResult:
    """What a refusal at ``stage`` with reply ``code`` means (see the module docs)."""
    reason = f"{code} {message}".strip() + f" (at {stage})"
    if 400 <= code < 500:
        return TemporaryFailure(reason=reason, code=str(code))
    if 500 <= code < 600:
        status = NOT_SENT if stage == "RCPT" else REJECTED
        return PermanentFailure(reason=reason, status=status, code=str(code))
    return TemporaryFailure(reason=f"unexpected reply {reason}", code=str(code))


async def reset(smtp: aiosmtplib.SMTP) -> None:
    """``RSET`` after a failure; a connection that cannot even do that is closed."""
    try:
        await smtp.rset()
    except (aiosmtplib.SMTPException, OSError):
        with suppress(Exception):
            smtp.close()


async def transact(
    smtp: aiosmtplib.SMTP, envelope: Envelope, data: bytes, *, dsn: bool, message_id: str
) -> SendResult:
    """Send one message over ``smtp``; the attempt's result, or :class:`Interrupted`."""
    mail_options: list[str] = []
    rcpt_options: list[str] = []
    encoding = "ascii"
    stage = "MAIL"
    try:
        if smtp.is_ehlo_or_helo_needed:  # extensions must be known before MAIL
            await smtp.ehlo()
        if not envelope.recipient.isascii():
            if not smtp.supports_extension("smtputf8"):
                return PermanentFailure(
                    reason="the server does not take internationalised addresses (no SMTPUTF8)",
                    status=NOT_SENT,
                )
            mail_options.append("SMTPUTF8")
            encoding = "utf-8"
        if smtp.supports_extension("size"):
            mail_options.append(f"SIZE={len(data)}")
        if dsn and smtp.supports_extension("dsn"):
            mail_options += ["RET=HDRS", f"ENVID={xtext(envelope.envid)}"]
            rcpt_options += ["NOTIFY=SUCCESS,FAILURE", f"ORCPT=rfc822;{xtext(envelope.recipient)}"]
        await smtp.mail(envelope.sender, options=mail_options, encoding=encoding)
        stage = "RCPT"
        await smtp.rcpt(envelope.recipient, options=rcpt_options, encoding=encoding)
        stage = "DATA"
        await smtp.data(data)
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code in (421, -1) or not smtp.is_connected:
            # 421: the server is closing the connection; nothing more can be said on it.
            smtp.close()
            if exc.code == -1:
                raise Interrupted(stage, exc.message) from exc
        else:
            await reset(smtp)
        return refusal(stage, exc.code, exc.message)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
        smtp.close()
        raise Interrupted(stage, str(exc) or type(exc).__name__) from exc
    return Accepted(provider_ref=message_id, status=SENT)
