"""``flask ...`` commands. Each command owns its transaction (one place commits).

Every module in this package lists its click commands in ``COMMANDS``.
"""
from __future__ import annotations

import importlib
import pkgutil

from flask import Flask


def init_app(app: Flask) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            app.cli.add_command(command)


def services():
    from flask import current_app

    return current_app.extensions["kassa"]
