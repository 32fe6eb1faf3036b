"""An example third-party Tocsin plugin."""
