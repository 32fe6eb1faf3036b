"""The ``gsm`` plugin: the ``gsm-sms`` and ``gsm-voice`` channels and the ``tocsin modem``
commands, registered through the ``tocsin`` entry points like any third-party plugin."""

from __future__ import annotations

from typing import Any

import click

from tocsin.channel import Channel, ChannelSettings, ChannelType
from tocsin.hookspecs import hookimpl


def _build_sms(settings: ChannelSettings) -> Channel:
    from tocsin.plugins.gsm.sms_channel import build_sms_channel

    return build_sms_channel(settings)


def _build_voice(settings: ChannelSettings) -> Channel:
    from tocsin.plugins.gsm.voice_channel import build_voice_channel

    return build_voice_channel(settings)


GSM_SMS = ChannelType(
    name="gsm-sms",
    means="sms",
    build=_build_sms,
    description="SMS through GSM modems on serial ports (PDU mode, multipart, delivery "
    "reports, replies), pooled with failover.",
)

GSM_VOICE = ChannelType(
    name="gsm-voice",
    means="call",
    build=_build_voice,
    description="Voice calls through GSM modems: text-to-speech, press-1 confirmation "
    "(DTMF), pooled with failover.",
)


@hookimpl
def tocsin_register_channels() -> list[ChannelType]:
    return [GSM_SMS, GSM_VOICE]


@hookimpl
def tocsin_cli_commands() -> list[click.Command]:
    from tocsin.plugins.gsm.cli import command

    return [command]


@hookimpl
def tocsin_conformance_harnesses() -> list[Any]:
    """Both channels over virtual modems (see :mod:`.harness`)."""
    from tocsin.plugins.gsm.harness import harnesses

    return list(harnesses())
