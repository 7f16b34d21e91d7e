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


def twilio_url() -> str:
    """The URL Twilio signed: ``PUBLIC_URL`` + path (+ query) behind a proxy, else the request's."""
    public = current_app.extensions["kassa"].config.PUBLIC_URL
    if not public:
        return request.url
    query = request.query_string.decode("latin-1")
    return public.rstrip("/") + request.path + ("?" + query if query else "")


def twilio_signature_ok() -> bool:
    """``X-Twilio-Signature`` checked with the SDK's RequestValidator whenever TWILIO_AUTH_TOKEN is set."""
    token = current_app.extensions["kassa"].config.TWILIO_AUTH_TOKEN
    if not token:
        return True
    from twilio.request_validator import RequestValidator

    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and RequestValidator(token).validate(twilio_url(), request.form, signature)
