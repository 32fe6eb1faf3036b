"""Kinds of campaign a plugin can offer (alert campaigns, phone surveys, dialers)."""

from __future__ import annotations

from attrs import frozen


@frozen
class CampaignType:
    """A kind of campaign: ``name`` is what ``Campaign.kind`` holds."""

    name: str
    description: str = ""
