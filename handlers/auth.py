"""Webhook authentication shared by the provider endpoints."""
from __future__ import annotations

import hmac
from urllib.parse import quote

from flask import current_app, request


def at_token_ok() -> bool:
    """Africa's Talking signs nothing: when WEBHOOK_TOKEN is set, ``?token=`` must match."""
    expected = current_app.extensions["kassa"].config.WEBHOOK_TOKEN
    if not expected:
        return True
    given = request.args.get("token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


def twilio_url() -> str:
    """The URL Twilio signed, byte for byte: ``PUBLIC_URL`` (behind a proxy) or the
    request's scheme and host, then the path and query exactly as they were sent.

    Werkzeug's ``request.url`` decodes percent-escapes (``%C3%A9`` -> ``é``,
    ``%7E`` -> ``~``), which changes the signed string; the server's raw target
    (``RAW_URI``/``REQUEST_URI``, set by gunicorn and Werkzeug) does not.
    """
    public = current_app.extensions["kassa"].config.PUBLIC_URL
    base = public.rstrip("/") if public else f"{request.scheme}://{request.host}"
    return base + _raw_target()


def _raw_target() -> str:
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        return str(raw)
    query = request.query_string.decode("latin-1")
    return quote(request.path, safe="/~") + ("?" + query if query else "")


def twilio_signature_ok() -> bool:
    """``X-Twilio-Signature`` checked with the SDK's RequestValidator whenever TWILIO_AUTH_TOKEN is set."""
    token = current_app.extensions["kassa"].config.TWILIO_AUTH_TOKEN
    if not token:
        return True
    from twilio.request_validator import RequestValidator

    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and RequestValidator(token).validate(twilio_url(), request.form, signature)
