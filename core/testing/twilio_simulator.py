"""A Twilio-compatible provider on loopback, so the cloud channels can be tested and
demonstrated without an account.

It implements the subset of the REST API the channels use (Accounts, Messages and Calls:
create and fetch) with the provider's JSON shapes and error payloads, answers ``429``
when an account sends faster than its configured rate, and then plays what the scenario
of each number says (see :mod:`tocsin.testing.twilio_scenarios`): signed status
callbacks with realistic delays (scaled by ``time_scale``), duplicates and reordering,
the call's TwiML fetched and played, the scripted digit pressed.

Start it from Python with :func:`running_twilio_simulator` (yields its base URL) or
``async with TwilioSimulator(...) as sim``, or from the shell with
``tocsin simulate twilio``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx2
from attrs import define, field, frozen
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath

from tocsin.testing.background import BackgroundTasks
from tocsin.testing.http_server import bind_loopback, serving
from tocsin.testing.twilio_calls import Player
from tocsin.testing.twilio_resources import (
    API_VERSION,
    CallRecord,
    MessageRecord,
    account_json,
    error_payload,
    new_sid,
    sign,
)
from tocsin.testing.twilio_scenarios import Scenario, ScenarioBook

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "tocsin-simulator-auth-token"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_BODY = 1600
MAX_URL = 4000

# Realistic delays in seconds, multiplied by ``time_scale``.
SMS_SENT_AFTER = 0.5
SMS_DELIVERED_AFTER = 2.5
CALL_INITIATED_AFTER = 0.2
CALL_RINGING_AFTER = 1.0
CALL_ANSWERED_AFTER = 3.0
CALL_BUSY_AFTER = 2.0
CALL_NO_ANSWER_MAX = 25.0


@frozen
class CallbackRecord:
    """One callback the simulator posted, and what the receiver answered."""

    kind: str
    url: str
    params: tuple[tuple[str, str], ...]
    status_code: int | None
    token: str

    @property
    def values(self) -> dict[str, str]:
        return dict(self.params)


@define
class _Bucket:
    rate: float
    tokens: float
    stamp: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.rate, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@define
class TwilioSimulator:
    """The simulated provider: its accounts, scenarios, resources and callbacks."""

    accounts: Mapping[str, str] = field(factory=lambda: {DEFAULT_ACCOUNT_SID: DEFAULT_AUTH_TOKEN})
    scenarios: ScenarioBook = field(factory=ScenarioBook)
    time_scale: float = 0.01
    callbacks_enabled: bool = True
    rate_limit: float | None = None
    """Creates per second per account beyond which the API answers 429 (``None``: none)."""
    port: int = 0
    log: Any = None
    """A callable receiving one line per event (the CLI prints them), or ``None``."""

    messages: dict[str, MessageRecord] = field(factory=dict)
    calls: dict[str, CallRecord] = field(factory=dict)
    callbacks: list[CallbackRecord] = field(factory=list)
    creates: int = 0
    throttled: int = 0
    base_url: str = ""
    _background: BackgroundTasks = field(factory=BackgroundTasks)
    _attempts_by_number: dict[tuple[str, str], int] = field(factory=dict)
    _buckets: dict[str, _Bucket] = field(factory=dict)
    _client: httpx2.AsyncClient | None = None
    _server: Any = None

    # -- life --------------------------------------------------------------------------

    async def __aenter__(self) -> TwilioSimulator:
        self._client = httpx2.AsyncClient(
            timeout=10.0, trust_env=False, limits=httpx2.Limits(max_connections=50)
        )
        sock = bind_loopback(self.port)
        self._server = serving(self.app(), sock=sock)
        self.base_url = await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._background.cancel()
        if self._server is not None:
            await self._server.__aexit__(None, None, None)
        if self._client is not None:
            await self._client.aclose()

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until every scheduled callback and call has played out."""
        await self._background.settle(timeout)

    def _log(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.time_scale)

    # -- API helpers -------------------------------------------------------------------

    def _authorised(self, request: Request[Any, Any, Any], account: str) -> Response[Any] | None:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        token = self.accounts.get(account)
        if scheme.lower() != "basic" or token is None or user != account or password != token:
            return _error(20003, "Authenticate", 401)
        return None

    def _throttle(self, account: str) -> bool:
        if not self.rate_limit:
            return False
        loop = asyncio.get_running_loop()
        bucket = self._buckets.setdefault(account, _Bucket(self.rate_limit, self.rate_limit, loop.time()))
        return not bucket.take(loop.time())

    def _api_outcome(self, scenario: Scenario, means: str, to: str) -> Response[Any] | None:
        """The answer a scenario imposes on the create itself (rejected, 429, 500)."""
        if scenario.outcome == "rejected":
            code = int(scenario.argument)
            return _error(code, f"The 'To' number {to} is not valid for this request.", 400)
        if scenario.outcome in {"throttled", "server-error"}:
            key = (means, to)
            seen = self._attempts_by_number.get(key, 0)
            self._attempts_by_number[key] = seen + 1
            if seen < scenario.count:
                if scenario.outcome == "throttled":
                    self.throttled += 1
                    return _error(20429, "Too Many Requests", 429, retry_after="1")
                return _error(20500, "Internal Server Error", 500)
        return None

    async def _form(self, request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
        body = await request.body()
        return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)

    # -- Messages ----------------------------------------------------------------------

    async def create_message(self, request: Request[Any, Any, Any], account: str) -> Response[Any]:
        if (refused := self._authorised(request, account)) is not None:
            return refused
        self.creates += 1
        if self._throttle(account):
            self.throttled += 1
            return _error(20429, "Too Many Requests", 429, retry_after="1")
        form = dict(await self._form(request))
        to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        service = form.get("MessagingServiceSid")
        if not to:
            return _error(21604, "A 'To' phone number is required.", 400)
        if not E164.match(to):
            return _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
        if not sender and not service:
            return _error(21603, "A 'From' phone number is required.", 400)
        if not body:
            return _error(21602, "Message body is required.", 400)
        if len(body) > MAX_BODY:
            return _error(21617, "The concatenated message body exceeds the 1600 character limit.", 400)
        callback = form.get("StatusCallback", "")
        if callback and (urlsplit(callback).scheme not in {"http", "https"} or len(callback) > MAX_URL):
            return _error(21609, "Invalid StatusCallback URL.", 400)
        scenario = self.scenarios.for_number("sms", to)
        if (imposed := self._api_outcome(scenario, "sms", to)) is not None:
            return imposed
        now = _now()
        record = MessageRecord(
            sid=new_sid("SM"), account_sid=account, to=to, from_=sender or service or "",
            body=body, status="accepted" if service and not sender else "queued", created=now,
            status_callback=callback, messaging_service_sid=service,
        )
        self.messages[record.sid] = record
        self._log(f"SMS {record.sid} to {to}: {scenario.outcome}")
        self._background.spawn(self._play_message(record, scenario))
        return Response(record.to_json(), status_code=201)

    def fetch(self, request: Request[Any, Any, Any], account: str, sid: str, kind: str) -> Response[Any]:
        if (refused := self._authorised(request, account)) is not None:
            return refused
        sid = sid.removesuffix(".json")
        store: Mapping[str, MessageRecord | CallRecord] = self.messages if kind == "Messages" else self.calls
        record = store.get(sid)
        if record is None or record.account_sid != account:
            path = f"/{API_VERSION}/Accounts/{account}/{kind}/{sid}.json"
            return _error(20404, f"The requested resource {path} was not found", 404)
        return Response(record.to_json(), status_code=200)

    async def _play_message(self, record: MessageRecord, scenario: Scenario) -> None:
        timeline: list[tuple[float, str, str | None]] = [(SMS_SENT_AFTER, "sent", None)]
        if scenario.outcome == "failed":
            timeline = [(SMS_SENT_AFTER, "failed", scenario.argument)]
        elif scenario.outcome == "undelivered":
            timeline.append((SMS_DELIVERED_AFTER, "undelivered", scenario.argument))
        elif scenario.outcome != "silent":
            timeline.append((SMS_DELIVERED_AFTER, "delivered", None))
        deliveries: list[list[tuple[str, str]]] = []
        for delay, status, code in timeline:
            await self._sleep(delay)
            record.status, record.updated = status, _now()
            if status == "sent":
                record.sent = record.updated
            if code:
                record.error_code = int(code)
                record.error_message = None
            params = [
                ("AccountSid", record.account_sid), ("ApiVersion", API_VERSION),
                ("From", record.from_), ("MessageSid", record.sid), ("MessageStatus", status),
                ("SmsSid", record.sid), ("SmsStatus", status), ("To", record.to),
            ]
            if code:
                params.append(("ErrorCode", code))
            if scenario.reorder:
                deliveries.append(params)
            else:
                await self._callback("sms-status", record, params, scenario)
        for params in reversed(deliveries):
            await self._callback("sms-status", record, params, scenario)

    # -- Calls -------------------------------------------------------------------------

    async def create_call(self, request: Request[Any, Any, Any], account: str) -> Response[Any]:
        if (refused := self._authorised(request, account)) is not None:
            return refused
        self.creates += 1
        if self._throttle(account):
            self.throttled += 1
            return _error(20429, "Too Many Requests", 429, retry_after="1")
        pairs = await self._form(request)
        form = dict(pairs)
        to, sender, url = form.get("To", ""), form.get("From", ""), form.get("Url", "")
        if not to:
            return _error(21201, "No 'To' number is specified", 400)
        if not E164.match(to):
            return _error(21211, f"The 'To' number {to} is not a valid phone number.", 400)
        if not sender:
            return _error(21213, "No 'From' number is specified", 400)
        if urlsplit(url).scheme not in {"http", "https"} or len(url) > MAX_URL:
            return _error(21205, "Url is not a valid URL.", 400)
        scenario = self.scenarios.for_number("call", to)
        if (imposed := self._api_outcome(scenario, "call", to)) is not None:
            return imposed
        timeout = form.get("Timeout", "60")
        record = CallRecord(
            sid=new_sid("CA"), account_sid=account, to=to, from_=sender, url=url,
            method=form.get("Method", "POST").upper(), status="queued", created=_now(),
            status_callback=form.get("StatusCallback", ""),
            status_events=tuple(v for k, v in pairs if k == "StatusCallbackEvent"),
            machine_detection=form.get("MachineDetection", "") in {"Enable", "DetectMessageEnd"},
            timeout=int(timeout) if timeout.isdigit() else 60,
        )
        self.calls[record.sid] = record
        self._log(f"call {record.sid} to {to}: {scenario.outcome}")
        self._background.spawn(self._play_call(record, scenario))
        return Response(record.to_json(), status_code=201)

    def _call_params(self, call: CallRecord) -> list[tuple[str, str]]:
        params = [
            ("AccountSid", call.account_sid), ("ApiVersion", API_VERSION), ("CallSid", call.sid),
            ("CallStatus", call.status), ("Called", call.to), ("Caller", call.from_),
            ("Direction", "outbound-api"), ("From", call.from_), ("To", call.to),
        ]
        if call.answered_by and call.machine_detection:
            params.append(("AnsweredBy", call.answered_by))
        return params

    async def _play_call(self, call: CallRecord, scenario: Scenario) -> None:
        held: list[list[tuple[str, str]]] = []
        sequence = 0

        async def progress(event: str, status: str, extra: Sequence[tuple[str, str]] = ()) -> None:
            nonlocal sequence
            call.status = status
            if event not in call.status_events and event != "completed":
                return
            params = [
                *self._call_params(call),
                ("CallbackSource", "call-progress-events"),
                ("SequenceNumber", str(sequence)),
                ("Timestamp", _now().strftime("%a, %d %b %Y %H:%M:%S +0000")),
                *extra,
            ]
            sequence += 1
            if scenario.reorder and event != "completed":
                held.append(params)
                return
            await self._callback("call-status", call, params, scenario)

        await self._sleep(CALL_INITIATED_AFTER)
        await progress("initiated", "initiated")
        await self._sleep(CALL_RINGING_AFTER)
        await progress("ringing", "ringing")
        outcome = scenario.outcome
        final, code = "completed", ""
        if outcome == "busy":
            await self._sleep(CALL_BUSY_AFTER)
            final = "busy"
        elif outcome == "no-answer":
            await self._sleep(min(float(call.timeout), CALL_NO_ANSWER_MAX))
            final = "no-answer"
        elif outcome in {"failed", "canceled"}:
            await self._sleep(CALL_BUSY_AFTER)
            final, code = outcome, (scenario.argument if outcome == "failed" else "")
        else:
            await self._sleep(CALL_ANSWERED_AFTER)
            listener = {"voicemail": "machine", "fax": "fax"}.get(outcome, "human")
            if call.machine_detection:
                call.answered_by = {"machine": "machine_end_beep", "fax": "fax"}.get(listener, "human")
            call.started = _now()
            await progress("answered", "in-progress")
            player = Player(call, scenario, self._twiml_fetcher(call, scenario), self._sleep, listener)
            await player.run()
        call.ended = _now()
        call.duration = int((call.ended - call.started).total_seconds()) if call.started else 0
        extra = [("CallDuration", str(call.duration))] if final == "completed" else []
        if code:
            extra.append(("ErrorCode", code))
        await progress("completed", final, extra)
        for params in reversed(held):  # reordered: the progress arrives after the end
            await self._callback("call-status", call, params, scenario)
        pressed = f" (pressed {''.join(call.digits)})" if call.digits else ""
        self._log(f"call {call.sid} ended: {final}{pressed}")

    def _twiml_fetcher(self, call: CallRecord, scenario: Scenario) -> Any:
        async def fetch(url: str, method: str, extra: Mapping[str, str]) -> str | None:
            params = [*self._call_params(call), *extra.items()]
            kind = "gather" if "Digits" in extra else "twiml"
            return await self._post(kind, call.account_sid, url, params, token=uuid.uuid4().hex)

        return fetch

    async def inbound_sms(
        self, url: str, sender: str, to: str, body: str, *, account: str = DEFAULT_ACCOUNT_SID
    ) -> int | None:
        """A contact texts ``body`` to ``to``: post the provider's signed incoming-message
        webhook to ``url`` (a number's "a message comes in" URL); the HTTP status answered."""
        sid = new_sid("SM")
        params = [
            ("AccountSid", account), ("ApiVersion", API_VERSION), ("Body", body), ("From", sender),
            ("MessageSid", sid), ("NumMedia", "0"), ("NumSegments", "1"), ("SmsMessageSid", sid),
            ("SmsSid", sid), ("SmsStatus", "received"), ("To", to),
        ]
        await self._post("sms-inbound", account, url, params, token=uuid.uuid4().hex)
        return self.callbacks[-1].status_code

    # -- callbacks ---------------------------------------------------------------------

    async def _callback(
        self,
        kind: str,
        record: MessageRecord | CallRecord,
        params: list[tuple[str, str]],
        scenario: Scenario,
    ) -> None:
        url = record.status_callback
        if not url or not self.callbacks_enabled:
            return
        token = uuid.uuid4().hex
        await self._post(kind, record.account_sid, url, params, token=token)
        if scenario.duplicates:  # the provider retries the same delivery
            await self._post(kind, record.account_sid, url, params, token=token)

    async def _post(
        self, kind: str, account: str, url: str, params: list[tuple[str, str]], *, token: str
    ) -> str | None:
        """POST ``params`` to ``url`` signed with the account's token; the body when 2xx."""
        assert self._client is not None
        headers = {
            "X-Twilio-Signature": sign(self.accounts[account], url, params),
            "I-Twilio-Idempotency-Token": token,
            "User-Agent": "TwilioProxy/1.1",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        status: int | None = None
        text: str | None = None
        try:
            response = await self._client.post(url, content=_encode(params), headers=headers)
            status = response.status_code
            text = response.text if response.is_success else None
        except httpx2.HTTPError:
            pass
        self.callbacks.append(CallbackRecord(kind, url, tuple(params), status, token))
        return text

    # -- the application ---------------------------------------------------------------

    def app(self) -> Litestar:
        """The simulator's ASGI application."""
        sim = self
        root = f"/{API_VERSION}/Accounts"

        @get(f"{root}/{{account:str}}", sync_to_thread=False)
        def account(request: Request[Any, Any, Any], account: FromPath[str]) -> Response[Any]:
            sid = account.removesuffix(".json")
            if (refused := sim._authorised(request, sid)) is not None:
                return refused
            return Response(account_json(sid, _now()), status_code=200)

        @post(f"{root}/{{account:str}}/Messages.json")
        async def messages(request: Request[Any, Any, Any], account: FromPath[str]) -> Response[Any]:
            return await sim.create_message(request, account)

        @get(f"{root}/{{account:str}}/Messages/{{sid:str}}", sync_to_thread=False)
        def message(
            request: Request[Any, Any, Any], account: FromPath[str], sid: FromPath[str]
        ) -> Response[Any]:
            return sim.fetch(request, account, sid, "Messages")

        @post(f"{root}/{{account:str}}/Calls.json")
        async def calls(request: Request[Any, Any, Any], account: FromPath[str]) -> Response[Any]:
            return await sim.create_call(request, account)

        @get(f"{root}/{{account:str}}/Calls/{{sid:str}}", sync_to_thread=False)
        def call(
            request: Request[Any, Any, Any], account: FromPath[str], sid: FromPath[str]
        ) -> Response[Any]:
            return sim.fetch(request, account, sid, "Calls")

        return Litestar(route_handlers=[account, messages, message, calls, call], openapi_config=None)


def _encode(params: Sequence[tuple[str, str]]) -> bytes:
    return urlencode(list(params)).encode()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _error(code: int, message: str, status: int, *, retry_after: str | None = None) -> Response[Any]:
    headers = {"Retry-After": retry_after} if retry_after else None
    return Response(error_payload(code, message, status), status_code=status, headers=headers)


@contextlib.asynccontextmanager
async def running_twilio_simulator(
    *,
    scenarios: ScenarioBook | None = None,
    time_scale: float = 0.01,
    accounts: Mapping[str, str] | None = None,
    port: int = 0,
    rate_limit: float | None = None,
) -> AsyncIterator[str]:
    """Run a simulator on loopback while the block runs; yields its base URL (give it as
    ``api_base_url`` of a Twilio channel, with :data:`DEFAULT_ACCOUNT_SID` and
    :data:`DEFAULT_AUTH_TOKEN` unless ``accounts`` says otherwise)."""
    sim = TwilioSimulator(
        accounts=dict(accounts or {DEFAULT_ACCOUNT_SID: DEFAULT_AUTH_TOKEN}),
        scenarios=scenarios or ScenarioBook(),
        time_scale=time_scale,
        port=port,
        rate_limit=rate_limit,
    )
    async with sim:
        yield sim.base_url


__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "CallbackRecord",
    "TwilioSimulator",
    "running_twilio_simulator",
]
