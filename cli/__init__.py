"""``flask ...`` commands. Each command owns its transaction (one place commits).

Every module in this package lists its click commands in ``COMMANDS``.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy.orm import Session

from services import current as services

if TYPE_CHECKING:
    from groups.models import Coordinator

__all__ = ["find_coordinator", "init_app", "services"]


def init_app(app: Flask) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            app.cli.add_command(command)


def find_coordinator(session: Session, phone: str) -> Coordinator:
    """The coordinator with ``phone`` (any format), or a CLI error that says why not."""
    import click
    from sqlalchemy import select

    from groups.models import Coordinator
    from groups.phones import PhoneError, normalise_phone

    try:
        e164 = normalise_phone(phone)
    except PhoneError as exc:
        raise click.ClickException(str(exc)) from None
    found = session.scalar(select(Coordinator).where(Coordinator.phone == e164))
    if found is None:
        raise click.ClickException(f"no coordinator with phone {e164}")
    return found
