"""The USSD menus: screens and transitions as data, driven by one state machine.

Knows nothing of Flask or of a provider's field names: a handler turns the
provider's request into a :class:`menus.hop.Hop` and the :class:`menus.hop.Reply`
back into the provider's answer.
"""
