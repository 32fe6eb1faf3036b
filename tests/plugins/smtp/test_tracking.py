"""The open-tracking pixel route, served by a real Litestar application."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient

from tocsin import builtin_statuses
from tocsin.config import build_config
from tocsin.plugins.smtp import plugin, tokens
from tocsin.plugins.smtp.tracking import PIXEL
from tocsin.runtime import Runtime

from .conftest import SECRET, RecordingSink


def runtime_with(tmp_path: Path, tracking: bool) -> Runtime:
    config = build_config({
        "tocsin": {"database": f"sqlite:///{tmp_path / 't.db'}"},
        "channels": {"mail": {"type": "smtp", "host": "127.0.0.1", "from_address": "a@example.org",
                              "token_secret": SECRET, "tracking_pixel": tracking}},
    })
    return Runtime.open(config, entry_points=False,
                        plugins=[("core-statuses", builtin_statuses), ("smtp", plugin)])


def test_fetching_the_pixel_with_a_valid_token_reports_opened(tmp_path):
    runtime = runtime_with(tmp_path, tracking=True)
    sink = RecordingSink()
    runtime.sink = sink
    try:
        routes = [r for rs in runtime.pm.hook.tocsin_server_routes(runtime=runtime) for r in rs]
        token = tokens.make_token(SECRET, tokens.OPEN, 31)
        forged = f"31-{'0' * 16}"
        with TestClient(Litestar(route_handlers=routes)) as client:
            ok = client.get(f"/email/open/mail/{token}.gif")
            bad = client.get(f"/email/open/mail/{forged}.gif")
            other = client.get(f"/email/open/nochannel/{token}.gif")
        for response in (ok, bad, other):  # the same image whatever the token
            assert response.status_code == 200 and response.content == PIXEL
            assert response.headers["content-type"] == "image/gif"
            assert "no-store" in response.headers["cache-control"]
        assert [(e.attempt_id, e.status, e.source) for e in sink.events] == [
            (31, "opened", "tracking-pixel")]
    finally:
        runtime.close()


def test_no_route_when_tracking_is_off(tmp_path):
    runtime = runtime_with(tmp_path, tracking=False)
    try:
        assert runtime.pm.hook.tocsin_server_routes(runtime=runtime) == [[]]
    finally:
        runtime.close()


def test_the_reference_server_serves_the_pixel_without_login(tmp_path):
    from tocsin.plugins.server.app import create_app

    config = build_config({
        "tocsin": {"data_dir": str(tmp_path), "database": f"sqlite:///{tmp_path / 't.db'}"},
        "server": {"secret_key": "test-secret-key-0123456789"},
        "channels": {"mail": {"type": "smtp", "host": "127.0.0.1", "from_address": "a@example.org",
                              "token_secret": SECRET, "tracking_pixel": True}},
    })
    runtime = Runtime.open(config)
    sink = RecordingSink()
    runtime.sink = sink
    try:
        token = tokens.make_token(SECRET, tokens.OPEN, 8)
        with TestClient(create_app(runtime)) as client:
            response = client.get(f"/email/open/mail/{token}.gif")
        assert response.status_code == 200 and response.content == PIXEL
        assert [(e.attempt_id, e.status) for e in sink.events] == [(8, "opened")]
    finally:
        runtime.close()
