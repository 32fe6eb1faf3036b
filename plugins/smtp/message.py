"""Building one e-mail with the standard library's ``email`` package.

Text and HTML parts come from the rendered message; non-ASCII display names and subjects
are encoded as RFC 2047 words, bodies as quoted-printable UTF-8; the ``Message-ID`` and the return path
(VERP, ``bounces+<token>@<bounce domain>``) name the attempt with signed tokens, so that
a bounce finds its attempt without guessing.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
from collections.abc import Sequence
from email import charset, encoders, policy
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

import idna
from attrs import frozen

from tocsin.channel import OutboundAttempt
from tocsin.plugins.smtp import tokens
from tocsin.plugins.smtp.settings import SmtpSettings
from tocsin.scan import ScanPart

WIRE = policy.compat32.clone(linesep="\r\n")
"""CRLF line ends, 7-bit headers (RFC 2047 words made by ``email.header``): the fast path,
about three times quicker than the header-parsing policies on a send to thousands."""

WIRE_UTF8 = policy.SMTPUTF8
"""For recipients whose local part is not ASCII: raw UTF-8 headers, sent with SMTPUTF8."""

_UTF8 = charset.Charset("utf-8")
_UTF8.body_encoding = charset.QP


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


def ascii_address(address: str) -> str | None:
    """``address`` with its domain in IDNA (punycode) form, or ``None`` when its local part
    is not ASCII (such an address needs SMTPUTF8 end to end)."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        return None
    if domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        return None


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


def _one_line(text: str) -> str:
    """A header value never spans lines: a name or subject cannot inject headers."""
    return " ".join(text.splitlines()).strip()


def _mailbox(display_name: str, address: str, utf8: bool) -> str:
    display_name = _one_line(display_name)
    if not display_name:
        return address
    if display_name.isascii() or utf8:  # the SMTPUTF8 policy writes UTF-8 as it is
        quoted = display_name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    return f"{Header(display_name, 'utf-8').encode()} <{address}>"


def _attachment_part(a: Attachment, wire: policy.Policy) -> Message:
    maintype, _, subtype = a.content_type.partition("/")
    part = MIMEBase(maintype, subtype or "octet-stream", policy=wire)
    part.set_payload(a.data)
    encoders.encode_base64(part)
    filename: str | tuple[str, str, str] = (
        a.filename if a.filename.isascii() else ("utf-8", "", a.filename)
    )
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _body(text: str, html: str, attachments: Sequence[Attachment], wire: policy.Policy) -> Message:
    plain = MIMEText(text or " ", "plain", _UTF8, policy=wire)  # type: ignore[arg-type]
    body: Message = plain
    if html:
        body = MIMEMultipart("alternative", policy=wire)
        body.attach(plain)
        body.attach(MIMEText(html, "html", _UTF8, policy=wire))  # type: ignore[arg-type]
    if attachments:
        mixed = MIMEMultipart("mixed", policy=wire)
        mixed.attach(body)
        for a in attachments:
            mixed.attach(_attachment_part(a, wire))
        body = mixed
    return body


def build_message(
    settings: SmtpSettings,
    outbound: OutboundAttempt,
    *,
    now: dt.datetime,
    pixel_url: str = "",
    attachments: Sequence[Attachment] = (),
) -> tuple[Message, Envelope]:
    """The e-mail for ``outbound`` and its envelope (a validated address is expected).

    The message carries its wire policy: serialise it with :func:`to_bytes`.
    """
    attempt_id = outbound.attempt.id
    if attempt_id is None:
        raise ValueError("an attempt must be stored (have an id) before it is sent")
    secret, domain = settings.token_secret, settings.bounce_domain
    recipient = ascii_address(outbound.attempt.address)
    wire = WIRE if recipient is not None else WIRE_UTF8
    recipient = recipient or outbound.attempt.address
    utf8 = wire is WIRE_UTF8
    msg = _body(outbound.message.text, _html(outbound, pixel_url), attachments, wire)
    subject = _one_line(outbound.message.subject or outbound.alert_title) or "(no subject)"
    msg["Subject"] = subject if subject.isascii() or utf8 else Header(subject, "utf-8")  # type: ignore[assignment]
    msg["From"] = _mailbox(settings.from_name, settings.from_address, utf8)
    msg["To"] = _mailbox(outbound.contact_name, recipient, utf8)
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
    if "MIME-Version" not in msg:
        msg["MIME-Version"] = "1.0"
    envelope = Envelope(
        sender=tokens.verp_address(secret, attempt_id, domain),
        recipient=recipient,
        envid=tokens.make_token(secret, tokens.VERP, attempt_id),
    )
    return msg, envelope


def to_bytes(msg: Message) -> bytes:
    """The message as it goes on the wire (CRLF; 7-bit headers unless SMTPUTF8)."""
    return msg.as_bytes(policy=msg.policy)


def scan_parts(msg: Message) -> list[ScanPart]:
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
