"""``/api/campaigns``: communications (or surveys) grouped and run together."""

from __future__ import annotations

from attrs import field, frozen
from litestar import Router, get, post, put
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody

from tocsin.model import Campaign
from tocsin.plugins.server import campaigns
from tocsin.plugins.server.accounts import may_on_campaign
from tocsin.plugins.server.api.common import Limit, Offset, Page
from tocsin.plugins.server.auth import Authenticated
from tocsin.plugins.server.context import Ctx, ServerContext
from tocsin.plugins.server.rights import Right, need


@frozen
class CampaignIn:
    name: str
    kind: str = "alert"
    active: bool = True
    year: int | None = None
    contract_types: list[str] = field(factory=list)
    referent_user_id: int | None = None


def _campaign(ctx: ServerContext, data: CampaignIn) -> Campaign:
    campaign = Campaign(name=data.name, kind=data.kind, active=data.active, year=data.year,
                        contract_types=tuple(data.contract_types),
                        referent_user_id=data.referent_user_id)
    campaigns.check(ctx.store.engine, campaign, set(ctx.runtime.registry.campaign_types))
    return campaign


@get("/", opt=need(Right.CAMPAIGNS_READ), sync_to_thread=True)
def list_campaigns(ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> Page[Campaign]:
    items, total = campaigns.page(ctx.store.engine, limit=limit, offset=offset)
    return Page(items, total, limit, offset)


@post("/", opt=need(Right.CAMPAIGNS_WRITE), sync_to_thread=True)
def create_campaign(ctx: Ctx, data: JSONBody[CampaignIn]) -> Campaign:
    return campaigns.create(ctx.store.engine, _campaign(ctx, data), ctx.now())


@get("/{campaign_id:int}", opt=need(Right.CAMPAIGNS_READ), sync_to_thread=True)
def get_campaign(ctx: Ctx, campaign_id: FromPath[int]) -> Campaign:
    return campaigns.get(ctx.store.engine, campaign_id)


@put("/{campaign_id:int}", opt=need(Right.CAMPAIGNS_WRITE), sync_to_thread=True)
def replace_campaign(ctx: Ctx, principal: Authenticated, campaign_id: FromPath[int],
                     data: JSONBody[CampaignIn]) -> Campaign:
    """Change a campaign (needs the campaign's *modify* right, or to be its referent)."""
    campaigns.get(ctx.store.engine, campaign_id)
    if not may_on_campaign(ctx.store.engine, principal.user, campaign_id, "modify"):
        raise PermissionDeniedException(f"you may not modify campaign {campaign_id}")
    return campaigns.replace(ctx.store.engine, campaign_id, _campaign(ctx, data))


router = Router("/api/campaigns", route_handlers=[list_campaigns, create_campaign, get_campaign,
                                                   replace_campaign], tags=["campaigns"])
