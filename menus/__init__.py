"""The USSD menus: screens and transitions as data, driven by one state machine.

Knows nothing of Flask or of a provider's field names: a handler turns the
provider's request into a :class:`menus.hop.Hop`, calls :func:`menus.driver.answer`
with the machine from :func:`build_machine`, and turns the
:class:`menus.hop.Reply` back into the provider's answer.
"""
from __future__ import annotations

from functools import lru_cache

from menus.engine import Machine


@lru_cache(maxsize=1)
def build_machine() -> Machine:
    """Every declared screen, in one machine (built once per process)."""
    from menus import (
        coordinator,
        cycle,
        field,
        groups,
        help,
        home,
        leaders,
        loans,
        meeting,
        money,
        pin,
        privacy,
        programme,
        rules,
        settings,
        treasurer,
    )

    modules = (home, money, loans, meeting, help, settings, pin, leaders, treasurer, privacy, cycle, groups,
               coordinator, field, rules, programme)
    return Machine([screen for module in modules for screen in module.SCREENS])
