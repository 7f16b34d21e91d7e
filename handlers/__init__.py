"""HTTP endpoints per provider: parse the provider's request, call one neutral
function, render the provider's answer. No business rule lives here."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from handlers import health, ussd

    app.register_blueprint(health.bp)
    app.register_blueprint(ussd.bp)
