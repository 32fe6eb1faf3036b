"""Every route declares the right it needs, and refuses whoever lacks it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from tocsin.model import Role
from tocsin.plugins.server.auth import is_schema_path
from tocsin.plugins.server.rights import OPT_KEY, ROLE_RIGHTS, Right, declared


def http_routes(app: Litestar) -> Iterator[tuple[str, str, Right | None]]:
    """(method, path, declared right) for every route of the application."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or is_schema_path(route.path):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method == "OPTIONS":
                    continue
                yield method, route.path, declared(handler.opt)


def concrete(path: str) -> str:
    """A request path for a route path: ``1`` for an int parameter, ``x`` otherwise."""
    path = re.sub(r"\{[^}:]+:int\}", "1", path)
    path = re.sub(r"\{[^}:]+:path\}", "/x", path)
    return re.sub(r"\{[^}]+\}", "x", path)


def role_without(right: Right) -> Role | None:
    lacking = [role for role in (Role.AGENT, Role.OPERATOR) if right not in ROLE_RIGHTS[role]]
    return lacking[0] if lacking else None


def test_every_route_declares_a_right(app: Litestar) -> None:
    routes = list(http_routes(app))
    assert len(routes) > 20
    undeclared = [(m, p) for m, p, right in routes if right is None and not p.startswith("/static")]
    assert undeclared == [], f"routes without {OPT_KEY!r} in their opt: {undeclared}"


def test_every_protected_route_refuses_anonymous_and_roles_without_the_right(
    app: Litestar, client: TestClient[Litestar], api: Callable[[Role], dict[str, str]]
) -> None:
    checked = 0
    for method, path, right in http_routes(app):
        if right in (None, Right.PUBLIC):
            continue
        url = concrete(path)
        anonymous = client.request(method, url, follow_redirects=False)
        assert anonymous.status_code in (401, 303), (method, path, anonymous.status_code)
        if anonymous.status_code == 303:
            assert "/login" in anonymous.headers["location"]
        role = role_without(right)
        if role is not None:
            refused = client.request(method, url, headers=api(role), follow_redirects=False)
            assert refused.status_code == 403, (method, path, role, refused.status_code)
        checked += 1
    assert checked > 20


def test_a_route_without_a_declared_right_is_refused_even_to_administrators(
    runtime: object, api: Callable[[Role], dict[str, str]]
) -> None:
    from litestar import get

    from tocsin.plugins.server.app import create_app

    @get("/undeclared")
    async def undeclared() -> str:
        return "should never be seen"

    class Plugin:
        from tocsin.hookspecs import hookimpl

        @hookimpl
        def tocsin_server_routes(self, runtime: object) -> list[object]:
            return [undeclared]

    runtime.pm.register(Plugin(), name="undeclared-route")  # type: ignore[attr-defined]
    app = create_app(runtime)  # type: ignore[arg-type]
    with TestClient(app) as client:
        answer = client.get("/undeclared", headers=api(Role.ADMINISTRATOR))
    assert answer.status_code == 403
    assert "declares no right" in answer.json()["detail"]


@pytest.mark.parametrize("role", list(Role))
def test_roles_carry_the_rights_the_documentation_gives(role: Role) -> None:
    rights = ROLE_RIGHTS[role]
    assert Right.PUBLIC not in rights
    assert Right.AUTHENTICATED in rights
    assert (Right.USERS_ADMIN in rights) == (role == Role.ADMINISTRATOR)
    assert (Right.ALERTS_SEND in rights) == (role != Role.AGENT)


def test_the_plugins_webhook_routes_are_enumerated_and_declare_their_rights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a channel of each webhook-serving type configured, their routes join the app
    and every one of them declares a right (public: they check signatures themselves)."""
    import tomllib

    from tocsin.config import build_config
    from tocsin.plugins.server.app import create_app
    from tocsin.runtime import Runtime

    monkeypatch.setenv("TOCSIN_KANNEL_DLR_SECRET", "kannel-dlr-secret-0123456789")
    monkeypatch.setenv("TOCSIN_KANNEL_PASSWORD", "kannel-password")
    root = Path(__file__).resolve().parents[3]
    kannel = tomllib.loads((root / "contrib" / "gateways" / "kannel.toml").read_text())
    runtime = Runtime.open(build_config({
        "tocsin": {"data_dir": str(tmp_path), "base_url": "http://127.0.0.1:8000"},
        "server": {"secret_key": "test-secret-key-0123456789"},
        "channels": {
            **kannel["channels"],
            "sms": {"type": "twilio-sms", "account_sid": "AC" + "0" * 31 + "1",
                    "auth_token": "token", "from": "+33100000001"},
            "mail": {"type": "smtp", "from_address": "mairie@example.org",
                     "servers": [{"host": "127.0.0.1", "port": 2525}],
                     "tracking_pixel": True, "token_secret": "tracking-secret-0123456789"},
        },
    }))
    try:
        routes = list(http_routes(create_app(runtime)))
    finally:
        runtime.close()
    paths = {p for _, p, _ in routes}
    for prefix in ("/webhooks/twilio/", "/webhooks/http-sms/", "/email/open/"):
        assert any(p.startswith(prefix) for p in paths), prefix
    undeclared = [(m, p) for m, p, right in routes if right is None and not p.startswith("/static")]
    assert undeclared == []
