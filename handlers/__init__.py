"""HTTP endpoints per provider: parse the provider's request, call one neutral
function, render the provider's answer. No business rule lives here.

Every module in this package that defines a Blueprint named ``bp``, or a function
``blueprint()`` making one (the provider endpoints, from the registry), is registered.
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
        make = getattr(module, "blueprint", None)
        bp = make() if make is not None else getattr(module, "bp", None)
        if bp is not None:
            app.register_blueprint(bp)


def _hardened(response: Response) -> Response:
    """No content sniffing: a USSD screen or an SMS reply is text, never a page."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _too_large(_exc: RequestEntityTooLarge) -> Response:
    """An oversized request: a USSD caller still gets a screen that ends her session."""
    from i18n import translator
    from providers.registry import PROVIDERS

    t = translator(services.current().config.DEFAULT_LANGUAGE)
    text = t.gettext("Sorry, we could not read this request. Please dial again.")
    for provider in PROVIDERS.values():
        if provider.ussd is not None and request.path == provider.ussd.path:
            return Response(provider.ussd.answer(text, True), status=200, mimetype=provider.ussd.mimetype)
    return Response(text, status=413, mimetype="text/plain")
