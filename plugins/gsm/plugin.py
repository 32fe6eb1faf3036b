"""The ``gsm`` plugin: the ``gsm-sms`` and ``gsm-voice`` channels and the ``tocsin modem``
commands, registered through the ``tocsin`` entry points like any third-party plugin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from tocsin.channel import Channel, ChannelSettings, ChannelType
from tocsin.config import Config
from tocsin.errors import ConfigError
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


def shared_ports(channels: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Ports named by more than one GSM channel (two sessions on one port garble both)."""
    owners: dict[str, list[str]] = {}
    for name, section in channels.items():
        if section.get("type") not in (GSM_SMS.name, GSM_VOICE.name):
            continue
        devices = section.get("devices") or []
        for device in [devices] if isinstance(devices, str) else devices:
            owners.setdefault(str(device).strip(), []).append(name)
    return [f"{device} (channels {', '.join(names)})" for device, names in owners.items()
            if len(names) > 1]


@hookimpl
def tocsin_configure(config: Config) -> None:
    """Refuse a serial port shared by two GSM channels."""
    if shared := shared_ports(config.channels):
        raise ConfigError("channels: a modem port can serve one GSM channel only: " + "; ".join(shared))


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
