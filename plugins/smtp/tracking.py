"""Opens: the tracking pixel route (off by default, and approximate).

An e-mail of a channel with ``tracking_pixel = true`` carries a 1x1 image whose URL holds a
signed token naming the attempt; fetching it reports *opened*. It is approximate: clients
that block images never report, and privacy proxies (Apple Mail, Gmail) fetch images
whether or not a person read the message. The route answers the same image whatever the
token, so it tells nothing to whoever probes it; only a valid token reports.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from tocsin.errors import ConfigError
from tocsin.model import StatusEvent
from tocsin.plugins.smtp import tokens
from tocsin.plugins.smtp.settings import parse_settings

OPENED = "opened"
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
PUBLIC = {"tocsin_right": "public"}
"""The right this route declares to the reference server: none (the token is the check)."""


def tracking_secrets(channels: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Token secrets of the smtp channels whose tracking pixel is on, by channel name."""
    secrets: dict[str, str] = {}
    for name, section in channels.items():
        if section.get("type") != "smtp" or not section.get("tracking_pixel"):
            continue
        options = {k: v for k, v in section.items()}
        try:
            secrets[name] = parse_settings(name, options).token_secret
        except ConfigError:
            continue  # the channel itself refuses to build and says why
    return secrets


def pixel_route(runtime: Any, secrets: Mapping[str, str]) -> Any:
    """The Litestar handler for ``GET /email/open/<channel>/<token>.gif``."""

    @get("/email/open/{channel:str}/{token:str}", opt=dict(PUBLIC), include_in_schema=False,
         sync_to_thread=False, name="smtp-open-pixel")
    def open_pixel(channel: FromPath[str], token: FromPath[str]) -> Response[bytes]:
        secret = secrets.get(channel)
        attempt_id = (
            tokens.verify_token(secret, tokens.OPEN, token.removesuffix(".gif")) if secret else None
        )
        if attempt_id is not None and runtime.sink is not None:
            runtime.sink.report(StatusEvent(status=OPENED, at=runtime.clock.now(),
                                            attempt_id=attempt_id, channel=channel,
                                            source="tracking-pixel"))
        return Response(PIXEL, media_type="image/gif",
                        headers={"Cache-Control": "no-store, private", "Pragma": "no-cache"})

    return open_pixel
