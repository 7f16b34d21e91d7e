"""Webhook authentication shared by the provider endpoints."""
from __future__ import annotations

import hmac

from flask import current_app, request


def at_token_ok() -> bool:
    """Africa's Talking signs nothing: when WEBHOOK_TOKEN is set, ``?token=`` must match."""
    expected = current_app.extensions["kassa"].config.WEBHOOK_TOKEN
    if not expected:
        return True
    given = request.args.get("token", "")
    return hmac.compare_digest(given.encode(), expected.encode())
