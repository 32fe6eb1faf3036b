"""``tocsin.engine``: the alert engine (fan-out, durable dispatch, status application,
reminders, escalation, recontact). Host applications use :class:`tocsin.app.Tocsin`."""

from tocsin.engine.applier import Applied, StatusApplier
from tocsin.engine.dispatch import ChannelPool, Dispatcher, LocalDispatcher
from tocsin.engine.engine import AlertStatus, Engine, TickReport
from tocsin.engine.settings import EngineSettings, engine_settings
from tocsin.engine.templates import TemplateError

__all__ = [
    "AlertStatus",
    "Applied",
    "ChannelPool",
    "Dispatcher",
    "Engine",
    "EngineSettings",
    "LocalDispatcher",
    "StatusApplier",
    "TemplateError",
    "TickReport",
    "engine_settings",
]
