"""The REST API: one module per resource, each a Litestar router under ``/api``."""
