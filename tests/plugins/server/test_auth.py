"""Signing in and out, sessions, CSRF, throttling, API tokens."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from tocsin.clock import FakeClock
from tocsin.model import Role, User
from tocsin.plugins.server.sessions import COOKIE
from tocsin.runtime import Runtime
from tocsin.store.schema import api_tokens, sessions, users

from .conftest import PASSWORD, add_user, csrf_of, sign_in


def test_passwords_are_stored_as_argon2id_hashes(runtime: Runtime) -> None:
    add_user(runtime, "ann", Role.OPERATOR)
    with runtime.store.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_signing_in_opens_a_session_and_returns_to_the_page_asked(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    add_user(runtime, "ann", Role.OPERATOR)
    anonymous = client.get("/contacts?search=x", headers={"accept": "text/html"},
                           follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    answer = sign_in(client, "ann")
    assert answer.status_code == 303
    assert client.cookies.get(COOKIE)
    page = client.get("/contacts", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "ann" in page.text
    with runtime.store.engine.connect() as conn:
        stored = conn.execute(select(sessions.c.id)).scalars().all()
    assert len(stored) == 1
    assert client.cookies.get(COOKIE) not in stored[0]  # only a digest is stored


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    add_user(runtime, "ann", Role.OPERATOR)
    wrong_password = sign_in(client, "ann", "not the password")
    unknown_user = sign_in(client, "bob", "not the password")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "Nom d'utilisateur ou mot de passe incorrect" in wrong_password.text.replace("&#39;", "'")
    assert not client.cookies.get(COOKIE)


def test_login_needs_the_form_token(client: TestClient[Litestar], runtime: Runtime) -> None:
    add_user(runtime, "ann", Role.OPERATOR)
    client.get("/login")
    answer = client.post("/login", data={"username": "ann", "password": PASSWORD,
                                         "csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403
    assert not client.cookies.get(COOKIE)


def test_login_is_throttled_after_repeated_failures_then_allowed_again(
    client: TestClient[Litestar], runtime: Runtime, clock: FakeClock
) -> None:
    add_user(runtime, "ann", Role.OPERATOR)
    for _ in range(5):
        assert sign_in(client, "ann", "wrong password!").status_code == 401
    blocked = sign_in(client, "ann")  # even the right password waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    clock.advance(minutes=16)
    assert sign_in(client, "ann").status_code == 303


def test_a_tampered_session_cookie_is_refused(client: TestClient[Litestar], runtime: Runtime) -> None:
    add_user(runtime, "ann", Role.OPERATOR)
    sign_in(client, "ann")
    cookie = client.cookies[COOKIE]
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert client.get("/api/me").status_code == 401


def test_signing_out_ends_the_session_for_good(client: TestClient[Litestar], runtime: Runtime) -> None:
    add_user(runtime, "ann", Role.OPERATOR)
    sign_in(client, "ann")
    cookie = client.cookies[COOKIE]
    page = client.get("/settings")
    assert client.post("/logout", data={"csrf_token": csrf_of(page.text)},
                       follow_redirects=False).status_code == 303
    client.cookies.set(COOKIE, cookie)  # replaying the old cookie does not help
    assert client.get("/api/me").status_code == 401


def test_changes_made_with_the_session_cookie_need_the_csrf_token(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    add_user(runtime, "ann", Role.OPERATOR)
    sign_in(client, "ann")
    body = {"first_name": "Zoé", "means": []}
    refused = client.post("/api/contacts", json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert runtime.store.contacts.count() == 0
    token = csrf_of(client.get("/settings").text)
    accepted = client.post("/api/contacts", json=body, headers={"x-csrf-token": token})
    assert accepted.status_code == 201
    refused_form = client.post("/settings", data={"language": "fr"}, follow_redirects=False)
    assert refused_form.status_code == 403


def test_an_api_token_is_shown_once_and_only_its_digest_is_stored(
    client: TestClient[Litestar], runtime: Runtime
) -> None:
    user = add_user(runtime, "ann", Role.OPERATOR)
    sign_in(client, "ann")
    csrf = csrf_of(client.get("/settings").text)
    made = client.post("/api/me/tokens", json={"name": "crm"}, headers={"x-csrf-token": csrf})
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("tcs_")
    listed = client.get("/api/me/tokens").json()
    assert [t["name"] for t in listed] == ["crm"]
    assert token not in str(listed)
    with runtime.store.engine.connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert token not in str(tuple(row))
    bare = TestClient(client.app)
    with bare:
        me = bare.get("/api/me", headers={"authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["user"]["id"] == user.id
        client.delete(f"/api/me/tokens/{row.id}", headers={"x-csrf-token": csrf})
        assert bare.get("/api/me", headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_a_disabled_user_is_refused_at_once(
    client: TestClient[Litestar], runtime: Runtime, users: dict[Role, User], api: object
) -> None:
    headers = api(Role.OPERATOR)  # type: ignore[operator]
    assert client.get("/api/contacts", headers=headers).status_code == 200
    admin = api(Role.ADMINISTRATOR)  # type: ignore[operator]
    operator = users[Role.OPERATOR]
    changed = client.patch(f"/api/users/{operator.id}", json={"active": False}, headers=admin)
    assert changed.status_code == 200
    assert client.get("/api/contacts", headers=headers).status_code == 401


def test_the_last_administrator_cannot_be_demoted(
    client: TestClient[Litestar], users: dict[Role, User], api: object
) -> None:
    admin = users[Role.ADMINISTRATOR]
    answer = client.patch(f"/api/users/{admin.id}", json={"role": "operator"},
                          headers=api(Role.ADMINISTRATOR))  # type: ignore[operator]
    assert answer.status_code == 400
    assert "last active administrator" in answer.json()["detail"]


def test_pages_may_not_be_framed_or_sniffed(client: TestClient[Litestar]) -> None:
    page = client.get("/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in page.headers["content-security-policy"]
