"""GSM channels: SMS and voice calls through modems on serial ports (``tocsin.hal``)."""
