"""Building one e-mail with the standard library's ``email`` package.

Text and HTML parts come from the rendered message; non-ASCII display names and subjects
are encoded by the ``email`` policy (RFC 2047); the ``Message-ID`` and the return path
(VERP, ``bounces+<token>@<bounce domain>``) name the attempt with signed tokens, so that
a bounce finds its attempt without guessing.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
from collections.abc import Sequence
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from attrs import frozen

from tocsin.channel import OutboundAttempt
from tocsin.plugins.smtp import tokens
from tocsin.plugins.smtp.settings import SmtpSettings
from tocsin.scan import ScanPart

POLICY = policy.SMTP.clone(max_line_length=78)
"""CRLF line ends, RFC 2047 for non-ASCII headers: what goes on the wire."""


@frozen
class Attachment:
    """A file attached to an e-mail (host applications may pass some)."""

    filename: str
    content_type: str
    data: bytes


@frozen
class Envelope:
    """What the SMTP dialogue needs besides the message: who bounces go to, and to whom."""

    sender: str
    recipient: str
    envid: str


def _address(display_name: str, addr: str) -> Address:
    local, _, domain = addr.rpartition("@")
    return Address(display_name=display_name, username=local, domain=domain)


def tracking_url(base_url: str, channel: str, secret: str, attempt_id: int) -> str:
    """The pixel URL whose fetch marks the attempt *opened*."""
    token = tokens.make_token(secret, tokens.OPEN, attempt_id)
    return f"{base_url.rstrip('/')}/email/open/{channel}/{token}.gif"


def _html(outbound: OutboundAttempt, pixel: str) -> str:
    body = outbound.message.html
    if not body and pixel:
        text = html_lib.escape(outbound.message.text).replace("\n", "<br>\n")
        body = f"<!DOCTYPE html><html><body><p>{text}</p></body></html>"
    if pixel and body:
        img = f'<img src="{html_lib.escape(pixel)}" width="1" height="1" alt="" style="border:0">'
        lower = body.lower()
        at = lower.rfind("</body>")
        body = body[:at] + img + body[at:] if at >= 0 else body + img
    return body


def build_message(
    settings: SmtpSettings,
    outbound: OutboundAttempt,
    *,
    now: dt.datetime,
    pixel_url: str = "",
    attachments: Sequence[Attachment] = (),
) -> tuple[EmailMessage, Envelope]:
    """The e-mail for ``outbound`` and its envelope (validated address expected)."""
    attempt_id = outbound.attempt.id
    if attempt_id is None:
        raise ValueError("an attempt must be stored (have an id) before it is sent")
    secret, domain = settings.token_secret, settings.bounce_domain
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = outbound.message.subject or outbound.alert_title or "(no subject)"
    msg["From"] = _address(settings.from_name, settings.from_address)
    msg["To"] = _address(outbound.contact_name, outbound.attempt.address)
    if settings.reply_to:
        msg["Reply-To"] = settings.reply_to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = tokens.message_id(secret, attempt_id, domain)
    msg["Auto-Submitted"] = "auto-generated"
    if settings.list_unsubscribe:
        msg["List-Unsubscribe"] = f"<{settings.list_unsubscribe}>"
        if settings.list_unsubscribe.startswith("https://"):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if outbound.language:
        msg["Content-Language"] = outbound.language
    msg.set_content(outbound.message.text or " ", charset="utf-8")
    html = _html(outbound, pixel_url)
    if html:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    if attachments:
        if not msg.is_multipart() or msg.get_content_subtype() != "mixed":
            msg.make_mixed()
        for a in attachments:
            maintype, _, subtype = a.content_type.partition("/")
            msg.add_attachment(a.data, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=a.filename)
    envelope = Envelope(
        sender=tokens.verp_address(secret, attempt_id, domain),
        recipient=outbound.attempt.address,
        envid=tokens.make_token(secret, tokens.VERP, attempt_id),
    )
    return msg, envelope


def scan_parts(msg: EmailMessage) -> list[ScanPart]:
    """Every leaf part of ``msg``, decoded, as content scanners see them."""
    parts = []
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        name = part.get_filename() or f"part {index} ({part.get_content_type()})"
        parts.append(ScanPart(name=name, content_type=part.get_content_type(),
                              data=data if isinstance(data, bytes) else b""))
    return parts
