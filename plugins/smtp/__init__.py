"""The e-mail channel over SMTP: pooled sending with failover, bounce and complaint intake,
optional open tracking. The plugin module is :mod:`tocsin.plugins.smtp.plugin`."""
