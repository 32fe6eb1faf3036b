"""The ``demo`` plugin: ``tocsin demo`` (what ``make demo`` runs) starts two virtual GSM
modems, a local SMTP server with its bounces, optionally the Twilio simulator, and the
reference server with the engine; it imports demonstration contacts and really sends an
alert through the engine and the channels, so the dashboard's counts move live."""
