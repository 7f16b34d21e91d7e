"""HTTP endpoints per provider: parse the provider's request, call one neutral
function, render the provider's answer. No business rule lives here.

Every module in this package that defines a Blueprint named ``bp`` is registered.
"""
from __future__ import annotations

import importlib
import pkgutil

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

import services


def init_app(app: Flask) -> None:
    app.after_request(_hardened)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        bp = getattr(module, "bp", None)
        if bp is not None:
            app.register_blueprint(bp)


def _hardened(response: Response) -> Response:
    """No content sniffing: a USSD screen or an SMS reply is text, never a page."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _too_large(_exc: RequestEntityTooLarge) -> Response:
    """An oversized request: a USSD caller still gets a screen that ends her session."""
    from i18n import translator
    from menus.hop import Reply

    t = translator(services.current().config.DEFAULT_LANGUAGE)
    text = t.gettext("Sorry, we could not read this request. Please dial again.")
    if request.path.startswith("/ussd/"):
        return Response(Reply(text, end=True).body, status=200, mimetype="text/plain")
    return Response(text, status=413, mimetype="text/plain")
