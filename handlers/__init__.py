"""HTTP endpoints per provider: parse the provider's request, call one neutral
function, render the provider's answer. No business rule lives here.

Every module in this package that defines a Blueprint named ``bp`` is registered.
"""
from __future__ import annotations

import importlib
import pkgutil

from flask import Flask


def init_app(app: Flask) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        bp = getattr(module, "bp", None)
        if bp is not None:
            app.register_blueprint(bp)
