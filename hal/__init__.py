"""Hardware abstraction: serial transport, AT session, GSM modem drivers and profiles,
modem pool, and the virtual modem.

Layers, bottom up (see ``docs/hal.md``): :mod:`~tocsin.hal.transport` (pyserial under
asyncio), :mod:`~tocsin.hal.lines` and :mod:`~tocsin.hal.session` (AT commands, final
results, unsolicited codes), :mod:`~tocsin.hal.modem` with :mod:`~tocsin.hal.profiles`
(one modem), :mod:`~tocsin.hal.sms`, :mod:`~tocsin.hal.voice`, :mod:`~tocsin.hal.ussd`
(what a modem does), :mod:`~tocsin.hal.pool` (several modems for one channel), and
:mod:`~tocsin.hal.virtual_modem` (``async with virtual_modems(2) as modems:`` starts
emulated modems on pseudo-terminals; ``modems[i].device`` is the port).
"""
