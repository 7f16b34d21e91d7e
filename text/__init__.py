"""Text as the networks count it and as a member reads it; imports nothing from Kassa.

- :mod:`text.gsm7`: GSM-7 or UCS-2, units and SMS segments (the one measurer).
- :mod:`text.plain`: plain letters (GSM-7 only) and the two letter styles.
- :mod:`text.screen`: fitting text on a USSD screen, paging what does not fit.

Bottom layer: the SMS outbox, the USSD menus, the catalogs' checks and the
commands all measure and transliterate here, and this package depends on none
of them.
"""
