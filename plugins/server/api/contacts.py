"""``/api/contacts``: contacts with their means, one by one or imported from a file."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import anyio.to_thread
from attrs import field, frozen
from litestar import Request, Router, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, update

from tocsin.errors import NotFoundError, ValidationError
from tocsin.model import AddressKind, Contact, ContactMeans, PostalAddress
from tocsin.plugins.server.api.common import Limit, Offset, OperationStarted, Page, started
from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx
from tocsin.plugins.server.importing import prepare_import
from tocsin.plugins.server.rights import Right, need
from tocsin.store.contacts import contact_row
from tocsin.store.schema import contact_means, contacts
from tocsin.validate import email_address, phone_e164


@frozen
class MeansIn:
    """A means of contact as a client sends it; phone numbers may be national."""

    kind: AddressKind
    value: str
    verified: bool = False
    preference: int = 0


@frozen
class ContactIn:
    """A contact as a client sends it (no id, no timestamps)."""

    first_name: str = ""
    last_name: str = ""
    external_id: str | None = None
    language: str = ""
    organisation: str = ""
    address: PostalAddress = field(factory=PostalAddress)
    attributes: dict[str, str] = field(factory=dict)
    means: list[MeansIn] = field(factory=list)
    opted_out: bool = False


def to_contact(data: ContactIn, region: str) -> Contact:
    """Validate and normalise a client's contact; the error names the bad field."""
    means = []
    for i, m in enumerate(data.means):
        try:
            value = email_address(m.value) if m.kind == AddressKind.EMAIL else phone_e164(m.value, region)
        except ValidationError as exc:
            raise ValidationError(f"means[{i}].value: {exc}") from None
        means.append(ContactMeans(m.kind, value, m.verified, m.preference))
    if len({(m.kind, m.value) for m in means}) != len(means):
        raise ValidationError("means: the same address is given twice")
    for name in ("first_name", "last_name", "organisation"):
        if len(getattr(data, name)) > 200:
            raise ValidationError(f"{name}: at most 200 characters")
    if data.external_id is not None and not (0 < len(data.external_id) <= 200):
        raise ValidationError("external_id: between 1 and 200 characters, or null")
    if len(data.language) > 16:
        raise ValidationError("language: at most 16 characters")
    return Contact(
        first_name=data.first_name,
        last_name=data.last_name,
        external_id=data.external_id,
        language=data.language.lower(),
        organisation=data.organisation,
        address=data.address,
        attributes=data.attributes,
        means=tuple(means),
        opted_out=data.opted_out,
    )


def _check_external_id_free(ctx: Ctx, external_id: str | None, own_id: int | None) -> None:
    if external_id is None:
        return
    try:
        other = ctx.store.contacts.get_by_external_id(external_id)
    except NotFoundError:
        return
    if other.id != own_id:
        raise ValidationError(f"external_id: {external_id!r} is already used by contact {other.id}")


@get("/", opt=need(Right.CONTACTS_READ), sync_to_thread=True)
def list_contacts(
    ctx: Ctx,
    search: Annotated[str, Parameter(max_length=200)] = "",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[Contact]:
    """Contacts by name; ``search`` matches first name, last name or external id."""
    items = ctx.store.contacts.page(search=search, limit=limit, offset=offset)
    return Page(items, ctx.store.contacts.count(), limit, offset)


@post("/", opt=need(Right.CONTACTS_WRITE), sync_to_thread=True)
def create_contact(ctx: Ctx, data: JSONBody[ContactIn]) -> Contact:
    """Create one contact; phone numbers become E.164, e-mails are checked."""
    contact = to_contact(data, ctx.runtime.config.core.default_region)
    _check_external_id_free(ctx, contact.external_id, None)
    created: Contact = ctx.store.contacts.add(contact, now=ctx.now())
    return created


@get("/{contact_id:int}", opt=need(Right.CONTACTS_READ), sync_to_thread=True)
def get_contact(ctx: Ctx, contact_id: FromPath[int]) -> Contact:
    found: Contact = ctx.store.contacts.get(contact_id)
    return found


@put("/{contact_id:int}", opt=need(Right.CONTACTS_WRITE), sync_to_thread=True)
def replace_contact(ctx: Ctx, contact_id: FromPath[int], data: JSONBody[ContactIn]) -> Contact:
    """Replace a contact's fields and means (the id and creation time stay)."""
    contact = to_contact(data, ctx.runtime.config.core.default_region)
    ctx.store.contacts.get(contact_id)
    _check_external_id_free(ctx, contact.external_id, contact_id)
    with ctx.store.transaction() as conn:
        conn.execute(
            update(contacts).where(contacts.c.id == contact_id).values(contact_row(contact, ctx.now()))
        )
        conn.execute(sql_delete(contact_means).where(contact_means.c.contact_id == contact_id))
        if contact.means:
            conn.execute(
                insert(contact_means),
                [
                    {"contact_id": contact_id, "kind": str(m.kind), "value": m.value,
                     "verified": m.verified, "preference": m.preference, "failing": m.failing}
                    for m in contact.means
                ],
            )
    replaced: Contact = ctx.store.contacts.get(contact_id)
    return replaced


@delete("/{contact_id:int}", opt=need(Right.CONTACTS_WRITE), sync_to_thread=True,
        status_code=HTTP_204_NO_CONTENT)
def delete_contact(ctx: Ctx, contact_id: FromPath[int]) -> None:
    ctx.store.contacts.delete(contact_id)


@dataclasses.dataclass
class ImportForm:
    """A contacts file (CSV or XLSX) and how to read it."""

    file: UploadFile
    group: str | None = None
    region: str | None = None
    mapping: str | None = None
    """JSON object: file header -> field (``first_name``, ``email``, ``attributes.x``...)."""
    unmapped: str = "attribute"
    sheet: str | None = None


@post("/import", opt=need(Right.CONTACTS_WRITE), status_code=HTTP_202_ACCEPTED)
async def import_file(
    ctx: Ctx,
    principal: Authenticated,
    request: Request,  # type: ignore[type-arg]
    data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
) -> OperationStarted:
    """Import a file, all rows or none; returns an operation to follow."""
    content = await data.file.read()
    op, work = await anyio.to_thread.run_sync(lambda: prepare_import(
        ctx, principal.user_id, data.file.filename or "", content, group=data.group,
        region=data.region, mapping=data.mapping, unmapped=data.unmapped, sheet=data.sheet))
    ctx.operations.start(op, work)
    return started(op, request.scope.get("root_path", ""))


@frozen
class VerificationSent:
    """A verification handed to a channel: the challenge, its attempt and first status."""

    verification_id: int
    attempt_id: int
    address: str
    via: str
    status: str
    error: str = ""


@post("/{contact_id:int}/means/{means_id:int}/verify", opt=need(Right.CONTACTS_WRITE))
async def resend_verification(
    ctx: Ctx, contact_id: FromPath[int], means_id: FromPath[int],
    via: Annotated[str | None, Parameter(max_length=16)] = None,
) -> VerificationSent:
    """Send a new verification (code or link) to one of the contact's means, by ``via``
    (``sms``, ``call`` or ``email``; by default the usual one for the address)."""
    from tocsin.plugins.server.verification import resend

    sent = await resend(ctx, contact_id, means_id, via)
    return VerificationSent(sent.verification_id, sent.attempt_id, sent.address, sent.via,
                            sent.status, sent.error)


router = Router(
    "/api/contacts",
    route_handlers=[list_contacts, create_contact, get_contact, replace_contact, delete_contact,
                    import_file, resend_verification],
    tags=["contacts"],
)
