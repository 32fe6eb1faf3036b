"""The server mounted inside a host ASGI application, under a path prefix."""

from __future__ import annotations

from litestar import Litestar, asgi, get
from litestar.testing import TestClient

from tocsin.model import Role
from tocsin.plugins.server.app import create_app
from tocsin.runtime import Runtime

from .conftest import PASSWORD, add_user, csrf_of


def test_mounted_under_a_prefix_the_pages_links_and_cookies_stay_under_it(runtime: Runtime) -> None:
    add_user(runtime, "ann", Role.OPERATOR)
    tocsin = create_app(runtime)

    @get("/")
    async def host_home() -> str:
        return "the host's own page"

    @asgi("/tocsin", is_mount=True, copy_scope=True)
    async def mounted(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        # Litestar's mount strips the prefix from the path; the ASGI way to tell the
        # mounted application where it lives is root_path
        scope["root_path"] = scope.get("root_path", "") + "/tocsin"
        await tocsin(scope, receive, send)  # type: ignore[arg-type]

    host = Litestar([host_home, mounted], openapi_config=None)
    with TestClient(host) as client:
        assert client.get("/").text == "the host's own page"
        anonymous = client.get("/tocsin/contacts", headers={"accept": "text/html"},
                               follow_redirects=False)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/tocsin/login?next=")
        login = client.get("/tocsin/login")
        assert 'action="/tocsin/login"' in login.text
        signed = client.post("/tocsin/login", data={"username": "ann", "password": PASSWORD,
                                                    "csrf_token": csrf_of(login.text),
                                                    "next": "/contacts"}, follow_redirects=False)
        assert signed.status_code == 303
        assert signed.headers["location"] == "/tocsin/contacts"
        assert "path=/tocsin" in signed.headers["set-cookie"].lower()
        page = client.get("/tocsin/contacts", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert 'href="/tocsin/static/app.css"' in page.text
        assert client.get("/tocsin/static/app.css").status_code == 200
        assert client.get("/tocsin/api/schema/openapi.json").status_code == 200
