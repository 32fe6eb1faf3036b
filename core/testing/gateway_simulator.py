"""An HTTP SMS gateway on loopback speaking three dialects, so the ``http-sms`` channel
is tested against a real server: Kannel's ``/cgi-bin/sendsms`` (delivery reports by GET
to the ``dlr-url`` with ``%d``/``%A``... expanded), Jasmin's ``/send`` (``Success "id"``,
reports POSTed, ``ACK/Jasmin`` expected) and playSMS's ``/index.php`` web service (JSON,
no reports). What happens to each message follows the SMS scenarios of
:mod:`tocsin.testing.twilio_scenarios` (delivered, undelivered, failed, silent,
rejected, throttled, server-error; ``+duplicates``, ``+reorder``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx2
from attrs import define, field, frozen
from litestar import Litestar, Request, Response, route

from tocsin.testing.background import BackgroundTasks
from tocsin.testing.http_server import bind_loopback, serving
from tocsin.testing.twilio_scenarios import Scenario, ScenarioBook

USERNAME = "tocsin"
PASSWORD = "tocsin"
SUBMIT_AFTER = 0.3
DELIVER_AFTER = 2.0
KANNEL_CODES = {"delivered": "1", "undelivered": "2", "buffered": "4", "submitted": "8", "rejected": "16"}
JASMIN_FINAL = {"delivered": "DELIVRD", "undelivered": "UNDELIV", "failed": "REJECTD"}


@frozen
class ReportRecord:
    """One delivery report the simulator sent, and what the receiver answered."""

    dialect: str
    message_id: str
    code: str
    status_code: int | None
    reply: str


@define
class GatewayMessage:
    dialect: str
    id: str
    to: str
    sender: str
    text: str
    state: str = "queued"


def _text(body: str, status: int) -> Response[str]:
    return Response(body, status_code=status, media_type="text/plain")


@define
class GatewaySimulator:
    """The simulated gateway (see the module documentation)."""

    scenarios: ScenarioBook = field(factory=ScenarioBook)
    time_scale: float = 0.01
    username: str = USERNAME
    password: str = PASSWORD
    port: int = 0
    log: Any = None
    messages: dict[str, GatewayMessage] = field(factory=dict)
    reports: list[ReportRecord] = field(factory=list)
    requests: int = 0
    base_url: str = ""
    _background: BackgroundTasks = field(factory=BackgroundTasks)
    _tries: dict[str, int] = field(factory=dict)
    _client: httpx2.AsyncClient | None = None
    _server: Any = None

    async def __aenter__(self) -> GatewaySimulator:
        self._client = httpx2.AsyncClient(timeout=10.0, trust_env=False)
        self._server = serving(self.app(), sock=bind_loopback(self.port))
        self.base_url = await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._background.cancel()
        if self._server is not None:
            await self._server.__aexit__(None, None, None)
        if self._client is not None:
            await self._client.aclose()

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until every scheduled delivery report has been sent."""
        await self._background.settle(timeout)

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.time_scale)

    def _imposed(self, scenario: Scenario, to: str) -> str | None:
        """``rejected``, ``throttled`` or ``server-error`` for this try, else ``None``."""
        if scenario.outcome == "rejected":
            return "rejected"
        if scenario.outcome in {"throttled", "server-error"}:
            seen = self._tries.get(to, 0)
            self._tries[to] = seen + 1
            if seen < scenario.count:
                return str(scenario.outcome)
        return None

    def _accept(self, dialect: str, to: str, sender: str, text: str) -> GatewayMessage:
        message = GatewayMessage(dialect, str(uuid.uuid4()), to, sender, text)
        self.messages[message.id] = message
        if self.log is not None:
            self.log(f"{dialect} SMS {message.id} to {to}")
        return message

    def _finals(self, scenario: Scenario) -> list[str]:
        """The states a message goes through after submission, by scenario."""
        if scenario.outcome == "failed":
            return ["rejected"]
        if scenario.outcome == "silent":
            return ["submitted"]
        if scenario.outcome == "undelivered":
            return ["submitted", "undelivered"]
        return ["submitted", "delivered"]

    async def _send_reports(self, scenario: Scenario, calls: list[tuple[str, Any]]) -> None:
        """Deliver ``(code, send)`` reports with the scenario's delays, order and repeats."""
        if scenario.reorder:
            await self._sleep(SUBMIT_AFTER + DELIVER_AFTER)
            calls = list(reversed(calls))
        for index, (_, send) in enumerate(calls):
            if not scenario.reorder:
                await self._sleep(SUBMIT_AFTER if index == 0 else DELIVER_AFTER)
            await send()
            if scenario.duplicates:
                await send()

    async def _deliver(self, dialect: str, message_id: str, code: str, method: str, url: str,
                       form: Mapping[str, str] | None = None) -> None:
        assert self._client is not None
        status: int | None = None
        reply = ""
        try:
            if method == "POST":
                response = await self._client.post(url, data=dict(form or {}))
            else:
                response = await self._client.get(url)
            status, reply = response.status_code, response.text
        except httpx2.HTTPError:
            pass
        self.reports.append(ReportRecord(dialect, message_id, code, status, reply))

    # -- Kannel --------------------------------------------------------------------------

    async def kannel(self, request: Request[Any, Any, Any]) -> Response[str]:
        self.requests += 1
        q = dict(request.query_params)
        if request.method == "POST":
            q.update(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if q.get("username") != self.username or q.get("password") != self.password:
            return _text("Authorization failed for sendsms", 403)
        to = q.get("to", "")
        if not to:
            return _text("Missing receiver number, rejected", 400)
        scenario = self.scenarios.for_number("sms", to)
        imposed = self._imposed(scenario, to)
        if imposed == "rejected":
            return _text("Number(s) has/have been denied by white- and/or black-lists.", 403)
        if imposed == "throttled":
            return Response("Too many requests", status_code=429, headers={"Retry-After": "1"},
                            media_type="text/plain")
        if imposed == "server-error":
            return _text("Internal error", 503)
        message = self._accept("kannel", to, q.get("from", ""), q.get("text", ""))
        dlr_url, mask = q.get("dlr-url", ""), int(q.get("dlr-mask", "0") or 0)
        if dlr_url and mask:
            calls = []
            for state in self._finals(scenario):
                code = KANNEL_CODES[state]
                if int(code) & mask:
                    answer = {"delivered": "id:%s sub:001 dlvrd:001 stat:DELIVRD err:000",
                              "undelivered": "NACK/0x0000000b/Invalid Destination Address",
                              "rejected": "NACK/0x00000045/Submit failed"}.get(state, "ACK/")
                    url = _kannel_expand(dlr_url, code, answer % message.id if "%s" in answer else answer,
                                         message)
                    calls.append((code, _bind(self._deliver, "kannel", message.id, code, "GET", url)))
            self._background.spawn(self._send_reports(scenario, calls))
        return _text("0: Accepted for delivery", 202)

    # -- Jasmin --------------------------------------------------------------------------

    async def jasmin(self, request: Request[Any, Any, Any]) -> Response[str]:
        self.requests += 1
        q = dict(request.query_params)
        if request.method == "POST":
            q.update(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if q.get("username") != self.username or q.get("password") != self.password:
            return _text(f'Error "Authentication failure for username:{q.get("username", "")}"', 403)
        to = q.get("to", "")
        if not to:
            return _text('Error "Mandatory argument [to] is not found."', 400)
        if "content" not in q and "hex-content" not in q:
            return _text('Error "content or hex-content not present."', 400)
        scenario = self.scenarios.for_number("sms", to)
        imposed = self._imposed(scenario, to)
        if imposed == "rejected":
            return _text('Error "Cannot route message to destination"', 412)
        if imposed == "throttled":
            return Response('Error "Throughput exceeded"', status_code=429,
                            headers={"Retry-After": "1"}, media_type="text/plain")
        if imposed == "server-error":
            return _text('Error "Internal server error"', 500)
        message = self._accept("jasmin", to, q.get("from", ""), q.get("content", ""))
        if q.get("dlr") == "yes" and q.get("dlr-url"):
            method = q.get("dlr-method", "POST").upper()
            level = q.get("dlr-level", "2")
            calls = []
            for state in self._finals(scenario):
                if state == "submitted":
                    if level not in {"1", "3"}:
                        continue
                    code, lvl = "ESME_ROK", "1"
                else:
                    if level not in {"2", "3"} and state != "rejected":
                        continue
                    code, lvl = JASMIN_FINAL.get(state if state != "rejected" else "failed", "UNKNOWN"), "2"
                form = {"id": message.id, "message_status": code, "level": lvl, "connector": "smpp1",
                        "id_smsc": str(abs(hash(message.id)) % 10**9), "sub": "001",
                        "dlvrd": "001" if code == "DELIVRD" else "000",
                        "subdate": time.strftime("%y%m%d%H%M"), "donedate": time.strftime("%y%m%d%H%M"),
                        "err": "000" if code in {"DELIVRD", "ESME_ROK"} else "011",
                        "text": message.text[:20]}
                url = q["dlr-url"]
                if method == "GET":
                    url += ("&" if "?" in url else "?") + "&".join(f"{k}={quote(v)}" for k, v in form.items())
                calls.append((code, _bind(self._deliver, "jasmin", message.id, code, method, url,
                                          form if method == "POST" else None)))
            self._background.spawn(self._send_reports(scenario, calls))
        return _text(f'Success "{message.id}"', 200)

    # -- playSMS -------------------------------------------------------------------------

    async def playsms(self, request: Request[Any, Any, Any]) -> Response[str]:
        self.requests += 1
        q = dict(request.query_params)
        if q.get("app") != "ws" or q.get("op") != "pv":
            return Response(json.dumps({"status": "ERR", "error": "102"}), media_type="application/json")
        if q.get("u") != self.username or q.get("h") != self.password:
            return Response(json.dumps({"status": "ERR", "error": "100"}), media_type="application/json")
        to = q.get("to", "")
        if not to or not q.get("msg"):
            return Response(json.dumps({"status": "ERR", "error": "201"}), media_type="application/json")
        scenario = self.scenarios.for_number("sms", to)
        imposed = self._imposed(scenario, to)
        if imposed == "rejected":
            return Response(json.dumps({"status": "ERR", "error": "200"}), media_type="application/json")
        if imposed is not None:
            return _text("Service Unavailable", 503)
        message = self._accept("playsms", to, q.get("from", ""), q.get("msg", ""))
        payload = {"data": [{"status": "OK", "error": "0", "smslog_id": message.id.split("-")[0],
                             "queue": uuid.uuid4().hex[:16], "to": to}],
                   "error_string": None, "timestamp": int(time.time())}
        return Response(json.dumps(payload), media_type="application/json")

    def app(self) -> Litestar:
        sim = self

        @route("/cgi-bin/sendsms", http_method=["GET", "POST"])
        async def kannel(request: Request[Any, Any, Any]) -> Response[str]:
            return await sim.kannel(request)

        @route("/send", http_method=["GET", "POST"])
        async def jasmin(request: Request[Any, Any, Any]) -> Response[str]:
            return await sim.jasmin(request)

        @route("/index.php", http_method=["GET"])
        async def playsms(request: Request[Any, Any, Any]) -> Response[str]:
            return await sim.playsms(request)

        return Litestar(route_handlers=[kannel, jasmin, playsms], openapi_config=None)


def _bind(fn: Any, *args: Any) -> Any:
    async def call() -> None:
        await fn(*args)

    return call


def _kannel_expand(url: str, code: str, answer: str, message: GatewayMessage) -> str:
    """Kannel's ``dlr-url`` escapes: %d type, %A answer, %p to, %P from, %T unix time."""
    now = dt.datetime.now(dt.UTC)
    table = {"%d": code, "%A": quote(answer), "%p": quote(message.to), "%P": quote(message.sender),
             "%T": str(int(now.timestamp())), "%t": quote(now.strftime("%Y-%m-%d %H:%M:%S"))}
    for escape, value in table.items():
        url = url.replace(escape, value)
    return url


@contextlib.asynccontextmanager
async def running_gateway_simulator(
    *, scenarios: ScenarioBook | None = None, time_scale: float = 0.01, port: int = 0
) -> AsyncIterator[str]:
    """Run a gateway simulator while the block runs; yields its base URL (credentials
    ``tocsin`` / ``tocsin``)."""
    async with GatewaySimulator(scenarios=scenarios or ScenarioBook(), time_scale=time_scale,
                                port=port) as sim:
        yield sim.base_url


__all__ = ["PASSWORD", "USERNAME", "GatewaySimulator", "ReportRecord", "running_gateway_simulator"]
