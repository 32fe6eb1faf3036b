"""Administrators' pages: users, roles, state, and rights on each campaign."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tocsin.model import Campaign, Role
from tocsin.plugins.server import accounts, campaigns
from tocsin.runtime import Runtime

from .conftest import add_user, csrf_of, sign_in

HTML = {"accept": "text/html", "accept-language": "en"}


def test_an_administrator_adds_a_user_changes_a_role_and_grants_campaign_rights(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    add_user(runtime, "chef", Role.ADMINISTRATOR)
    campaign = campaigns.create(runtime.store.engine, Campaign("Hiver 2026"), runtime.clock.now())
    sign_in(client, "chef")
    page = client.get("/users", headers=HTML)
    assert page.status_code == 200
    csrf = csrf_of(page.text)
    short = client.post("/users", headers=HTML, data={
        "csrf_token": csrf, "username": "bob", "password": "short", "role": "agent"})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    made = client.post("/users", headers=HTML, follow_redirects=False, data={
        "csrf_token": csrf, "username": "bob", "password": "a long password", "role": "agent"})
    assert made.status_code == 303
    bob, _ = runtime.store.users.by_username("bob")
    assert bob.role == Role.AGENT
    client.post(f"/users/{bob.id}", headers=HTML, data={
        "csrf_token": csrf, "role": "operator", "active": "on"})
    assert runtime.store.users.get(int(bob.id or 0)).role == Role.OPERATOR
    rights_page = client.get(f"/users/{bob.id}/campaigns", headers=HTML)
    assert "Hiver 2026" in rights_page.text
    client.post(f"/users/{bob.id}/campaigns", headers=HTML, data={
        "csrf_token": csrf, f"export_{campaign.id}": "on"})
    assert accounts.campaign_rights_of(runtime.store.engine, int(bob.id or 0)) == [
        accounts.CampaignRight(int(campaign.id or 0), can_modify=False, can_export=True)]
    chef, _ = runtime.store.users.by_username("chef")
    last = client.post(f"/users/{chef.id}", headers=HTML, data={
        "csrf_token": csrf, "role": "operator", "active": "on"})
    assert last.status_code == 400 and "last active administrator" in last.text


def test_an_operator_does_not_see_the_users_page(client: TestClient[Litestar],
                                                  runtime: Runtime) -> None:
    add_user(runtime, "op", Role.OPERATOR)
    sign_in(client, "op")
    assert "/users" not in client.get("/", headers=HTML).text
    assert client.get("/users", headers=HTML).status_code == 403
