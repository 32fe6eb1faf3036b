"""The OpenAPI document is the contract: schemathesis explores it and finds no server error.

The server runs under uvicorn on loopback with its engine; requests carry an
administrator's token (every operation is reachable). Examples per operation are bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tocsin.config import build_config
from tocsin.model import Role
from tocsin.plugins.server.app import create_app
from tocsin.plugins.server.demo import seed_alert
from tocsin.runtime import Runtime
from tocsin.testing.http_server import bind_loopback, url_of

from .conftest import LiveServer, add_user, token_for

EXAMPLES = 10


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder: Path = tmp_path_factory.mktemp("openapi")
    sock = bind_loopback()
    runtime = Runtime.open(build_config({
        "tocsin": {"data_dir": str(folder), "base_url": url_of(sock),
                   "database": f"sqlite:///{folder / 'tocsin.db'}"},
        "server": {"secret_key": "test-secret-key-0123456789"},
    }))
    seed_alert(runtime.store, contacts=20, now=runtime.clock.now(), group="Centre")
    token = token_for(runtime, add_user(runtime, "admin", Role.ADMINISTRATOR))
    with LiveServer(create_app(runtime, start_engine=True, dispatch=False), sock) as live:
        yield live.url, token
    runtime.close()


def test_no_request_the_schema_allows_makes_the_server_fail(api_server: tuple[str, str]) -> None:
    url, token = api_server
    schema = schemathesis.openapi.from_url(f"{url}/api/schema/openapi.json")
    failures: list[str] = []
    tested = 0
    for result in schema.exclude(path_regex=r".*/events$").get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def explore(case: schemathesis.Case) -> None:
            response = case.call(base_url=url, headers={"authorization": f"Bearer {token}"},
                                 timeout=30)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            explore()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
        tested += 1
    assert tested > 30
    assert failures == []
