"""Africa's Talking's requests to Kassa: inbound SMS, USSD hops and their end, and who may send them.

Africa's Talking signs nothing: when ``WEBHOOK_TOKEN`` is set, every request must
carry ``?token=<WEBHOOK_TOKEN>`` (compared in constant time). Field lengths are
capped here, so nothing further in carries an attacker's megabyte.
"""
from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from providers.base import Answer, Form, Inbound, UssdEnded, UssdRequest

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from config import Config

NAME = "africastalking"


def token_ok(request: Request, config: Config) -> bool:
    """When WEBHOOK_TOKEN is set, ``?token=`` must match it."""
    expected = config.WEBHOOK_TOKEN
    if not expected:
        return True
    given = request.args.get("token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


def sms(form: Form) -> Inbound | None:
    """An inbound SMS (``from, to, text, date, id, linkId, networkCode``); None without ``id`` or ``from``."""
    if not form.get("id") or not form.get("from"):
        return None
    return Inbound(NAME, form["id"], form["from"], form.get("text", ""), form.get("to", ""))


def stored() -> Answer:
    return Answer("OK")


def ussd(form: Form) -> UssdRequest | None:
    """A hop (``sessionId, serviceCode, phoneNumber, text, networkCode``); None without a usable
    session id or a phone number."""
    session_id = form.get("sessionId", "")
    phone = form.get("phoneNumber", "")
    if not session_id or len(session_id) > 100 or not phone:
        return None
    return UssdRequest(session_id=session_id, phone=phone, service_code=form.get("serviceCode", "")[:40],
                       text=form.get("text", "")[:1000], network=form.get("networkCode", "")[:10])


def ussd_answer(text: str, end: bool) -> str:
    """``CON ...`` to wait for the caller's input, ``END ...`` to finish the session."""
    return ("END " if end else "CON ") + text


def ussd_ended(form: Form) -> UssdEnded:
    """The end-of-session notification's fields worth a log line, capped (``input`` whole: the
    handler masks what may be a PIN before it cuts)."""
    return UssdEnded(session_id=form.get("sessionId", "")[:80], status=form.get("status", "")[:20],
                     hops=form.get("hopsCount", "")[:6], millis=form.get("durationInMillis", "")[:10],
                     input=form.get("input", ""), error=form.get("errorMessage", "")[:120])
