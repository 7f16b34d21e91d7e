"""The group's books: a double-entry ledger in integer minor units.

Knows nothing of HTTP, USSD or SMS; handlers, menus and jobs call it.
"""
