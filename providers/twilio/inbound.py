"""Twilio's requests to Kassa: inbound SMS, and the signature every request carries.

``X-Twilio-Signature`` is checked with the SDK's ``RequestValidator`` whenever
``TWILIO_AUTH_TOKEN`` is set, over the URL Twilio signed byte for byte (see
:func:`signed_url`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from providers.base import Answer, Form, Inbound

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from config import Config

NAME = "twilio"


def signed_url(request: Request, config: Config) -> str:
    """The URL Twilio signed, byte for byte: ``PUBLIC_URL`` (behind a proxy) or the
    request's scheme and host, then the path and query exactly as they were sent.

    Werkzeug's ``request.url`` decodes percent-escapes (``%C3%A9`` -> ``é``,
    ``%7E`` -> ``~``), which changes the signed string; the server's raw target
    (``RAW_URI``/``REQUEST_URI``, set by gunicorn and Werkzeug) does not.
    """
    public = config.PUBLIC_URL
    base = public.rstrip("/") if public else f"{request.scheme}://{request.host}"
    return base + _raw_target(request)


def _raw_target(request: Request) -> str:
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw and str(raw).startswith("/"):
        return str(raw)
    query = request.query_string.decode("latin-1")
    return quote(request.path, safe="/~") + ("?" + query if query else "")


def signature_ok(request: Request, config: Config) -> bool:
    """A valid ``X-Twilio-Signature`` over every field posted, whenever TWILIO_AUTH_TOKEN is set."""
    token = config.setting("TWILIO_AUTH_TOKEN")
    if not token:
        return True
    from twilio.request_validator import RequestValidator

    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and bool(RequestValidator(token).validate(signed_url(request, config), request.form,
                                                                      signature))


def sms(form: Form) -> Inbound | None:
    """An inbound SMS (``From, To, Body, MessageSid, ...``); None without ``MessageSid`` or ``From``."""
    if not form.get("MessageSid") or not form.get("From"):
        return None
    return Inbound(NAME, form["MessageSid"], form["From"], form.get("Body", ""), form.get("To", ""))


def stored() -> Answer:
    """Empty TwiML: replies never ride in it, they go through the outbox (tracked, rate-limited)."""
    from twilio.twiml.messaging_response import MessagingResponse

    return Answer(str(MessagingResponse()), mimetype="application/xml")
