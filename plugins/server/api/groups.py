"""``/api/groups``: named sets of contacts, the usual audience of an alert."""

from __future__ import annotations

from attrs import field, frozen
from litestar import Router, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from tocsin.errors import ValidationError
from tocsin.model import Group
from tocsin.plugins.server.api.common import Count, Limit, Offset, Page
from tocsin.plugins.server.context import Ctx
from tocsin.plugins.server.rights import Right, need


@frozen
class GroupIn:
    name: str
    description: str = ""


@frozen
class GroupInfo:
    """A group and how many contacts it holds."""

    group: Group
    members: int


@frozen
class Members:
    """Contacts to add to or remove from a group, by id."""

    contact_ids: list[int] = field(factory=list)


def _check(data: JSONBody[GroupIn]) -> None:
    if not data.name.strip():
        raise ValidationError("name: a group needs a name")
    if len(data.name) > 200:
        raise ValidationError("name: at most 200 characters")
    if "/" in data.name:
        raise ValidationError("name: '/' is not allowed in a group name")


def _ids(data: JSONBody[Members]) -> list[int]:
    if len(data.contact_ids) > 100_000:
        raise ValidationError("contact_ids: at most 100000 per request")
    return data.contact_ids


@get("/", opt=need(Right.CONTACTS_READ), sync_to_thread=True)
def list_groups(ctx: Ctx) -> list[GroupInfo]:
    return [GroupInfo(g, n) for g, n in ctx.store.groups.list()]


@post("/", opt=need(Right.CONTACTS_WRITE), sync_to_thread=True)
def create_group(ctx: Ctx, data: JSONBody[GroupIn]) -> Group:
    _check(data)
    group: Group = ctx.store.groups.create(data.name, data.description, now=ctx.now())
    return group


@get("/{name:str}", opt=need(Right.CONTACTS_READ), sync_to_thread=True)
def get_group(ctx: Ctx, name: FromPath[str]) -> GroupInfo:
    group = ctx.store.groups.get(name)
    count = next(n for g, n in ctx.store.groups.list() if g.id == group.id)
    return GroupInfo(group, count)


@delete("/{name:str}", opt=need(Right.CONTACTS_WRITE), sync_to_thread=True,
        status_code=HTTP_204_NO_CONTENT)
def delete_group(ctx: Ctx, name: FromPath[str]) -> None:
    """Delete a group (its contacts stay)."""
    ctx.store.groups.delete(name)


@get("/{name:str}/members", opt=need(Right.CONTACTS_READ), sync_to_thread=True)
def list_members(ctx: Ctx, name: FromPath[str], limit: Limit = 50, offset: Offset = 0) -> Page[int]:
    """The ids of the group's contacts, in id order."""
    ids = ctx.store.groups.members(name, limit=limit, offset=offset)
    total = next(n for g, n in ctx.store.groups.list() if g.name == name)
    return Page(ids, total, limit, offset)


@post("/{name:str}/members", opt=need(Right.CONTACTS_WRITE), sync_to_thread=True)
def add_members(ctx: Ctx, name: FromPath[str], data: JSONBody[Members]) -> Count:
    """Add contacts (all or none: an unknown id adds nothing); counts the new members."""
    return Count(ctx.store.groups.add(name, _ids(data)))


@post("/{name:str}/members/remove", opt=need(Right.CONTACTS_WRITE), sync_to_thread=True)
def remove_members(ctx: Ctx, name: FromPath[str], data: JSONBody[Members]) -> Count:
    """Remove contacts from the group; counts those that were members."""
    return Count(ctx.store.groups.remove(name, _ids(data)))


router = Router(
    "/api/groups",
    route_handlers=[list_groups, create_group, get_group, delete_group, list_members, add_members,
                    remove_members],
    tags=["groups"],
)
