"""Content scanning with ClamAV: a small clamd client and the scanner hook that uses it.
The plugin module is :mod:`tocsin.plugins.clamav.plugin`."""
