"""Hardware abstraction: serial transport, AT session, GSM modem drivers and profiles,
modem pool, and the virtual modem."""
