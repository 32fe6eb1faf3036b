"""Tocsin: multichannel alerting and outreach (calls, SMS, e-mail).

The core is small: the domain model, the hook specifications, the status machines and
rules, the store, the configuration and the command line. Channels, reports and the
server are plugins.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from tocsin.hookspecs import hookimpl

try:
    __version__ = version("tocsin")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__", "hookimpl"]
