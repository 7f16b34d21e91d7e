"""SMS commands: the parser, the registry of commands, and running one inbound SMS.

``commands.handle(session, config, Incoming(...))`` is the one entry point. A
part that adds a command calls ``commands.registry.register(Command(...))``
from a module imported here.
"""
from __future__ import annotations

from commands import (  # noqa: F401  (register their commands)
    admin,
    broadcast,
    builtin,
    cycle,
    field,
    loans_admin,
    meeting,
    rules,
)
from commands.handle import Handled, Incoming, handle
from programmes import sms as _programme_sms  # noqa: F401,E402  (registers ATT)

__all__ = ["Handled", "Incoming", "handle"]
