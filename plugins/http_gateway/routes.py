"""Delivery reports of ``http-sms`` gateways on the reference server.

Gateways like Kannel and Jasmin do not sign their callbacks, so the report URL Tocsin
gives them carries an HMAC of the message reference (``sig``): a report without the
right one is refused with ``403`` and changes nothing. The code is read from the query
or the form, mapped through ``[dlr.statuses]`` and reported once per (message, code);
the gateway gets the reply it expects (Jasmin wants ``ACK/Jasmin``). A report repeated
to any server process on the database is acknowledged and not applied again: the
(message, code) pairs are claimed in the store (:mod:`tocsin.plugins.cloudkit.replay`).
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request, Response, Router, route
from litestar.params import FromPath

from tocsin.errors import ConfigError
from tocsin.model import StatusEvent
from tocsin.plugins.cloudkit.host import WebhookHost
from tocsin.plugins.cloudkit.replay import ReplayGuard
from tocsin.plugins.http_gateway.channel import dlr_signature
from tocsin.plugins.http_gateway.settings import WEBHOOK_ROOT, GatewaySettings, parse_settings

TYPE = "http-sms"
PUBLIC = {"tocsin_right": "public"}


def _text(status: int, message: str) -> Response[str]:
    return Response(message, status_code=status, media_type="text/plain")


class GatewayReports:
    """The delivery-report logic of one runtime."""

    def __init__(self, runtime: WebhookHost) -> None:
        self.runtime = runtime
        self.seen = ReplayGuard(runtime.store.webhook_claims, runtime.clock)
        self._settings: dict[str, GatewaySettings] = {}

    def channel(self, name: str) -> GatewaySettings | None:
        if name not in self._settings:
            section = self.runtime.config.channels.get(name)
            if not section or section.get("type") != TYPE:
                return None
            try:
                parsed = parse_settings(name, section, base_url=self.runtime.config.core.base_url)
            except ConfigError:
                return None
            self._settings[name] = parsed
        return self._settings[name]

    async def report(self, name: str, request: Request[Any, Any, Any]) -> Response[str]:
        settings = self.channel(name)
        if settings is None or settings.dlr is None:
            return _text(404, f"no http-sms channel with delivery reports named {name!r}")
        dlr = settings.dlr
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        ref, sig = query.get("ref", ""), query.get("sig", "")
        if not ref or not hmac.compare_digest(sig.encode(), dlr_signature(settings, ref).encode()):
            return _text(403, "invalid delivery-report signature")
        values = dict(query)
        if request.method == "POST":
            body = await request.body()
            try:
                values.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                return _text(400, "the body is not a valid form")
        code = values.get(dlr.status_param, "")
        status = dlr.statuses.get(code)
        provider_ref = ref if dlr.id_param == "ref" else values.get(dlr.id_param, "")
        if status is None or not provider_ref:
            return _text(200, dlr.reply)  # a code Tocsin does not track: acknowledged, ignored
        if not await self.seen.claim(name, f"{provider_ref}\x00{code}"):
            return _text(200, dlr.reply)  # the gateway repeated itself: applied once already
        sink = self.runtime.sink
        if sink is None:
            await self.seen.release(name, f"{provider_ref}\x00{code}")
            return _text(503, "no status sink is running in this process; retry later")
        reason = values.get(dlr.reason_param, "") if dlr.reason_param else ""
        sink.report(
            StatusEvent(
                status=status,
                at=self.runtime.clock.now(),
                channel=name,
                provider_ref=provider_ref,
                reason=reason if status in {"undelivered", "failed"} else "",
                source=TYPE,
                data={"code": code, **({"answer": reason} if reason else {})},
            )
        )
        return _text(200, dlr.reply)


def build_router(runtime: WebhookHost) -> Router:
    """The delivery-report route of every ``http-sms`` channel, under ``/webhooks/http-sms``."""
    reports = GatewayReports(runtime)

    @route("/{channel:str}/dlr", http_method=["GET", "POST"], opt=PUBLIC, include_in_schema=False,
           name="http-sms-dlr")
    async def dlr(channel: FromPath[str], request: Request[Any, Any, Any]) -> Response[str]:
        return await reports.report(channel, request)

    return Router(path=WEBHOOK_ROOT, route_handlers=[dlr])
