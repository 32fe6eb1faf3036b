"""Tocsin's built-in plugins, each registered through the ``tocsin`` entry points exactly
like a third-party plugin."""
