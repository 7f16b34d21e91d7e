"""SMS webhooks: inbound messages and delivery reports from Africa's Talking and Twilio.

Each endpoint authenticates, turns the provider's form into a neutral
:class:`~messaging.inbound.Inbound` or :class:`~messaging.reports.Report`,
calls one function and answers. An inbound SMS is stored before the answer;
a redelivery gets the same 200 and changes nothing. Replies never ride in
Twilio's TwiML: they go through the outbox like every other SMS, so each is
tracked to delivery and rate-limited the same way (the TwiML is empty).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from handlers.auth import at_token_ok, twilio_signature_ok
from messaging.inbound import Inbound, receive
from messaging.reports import at_report, receive_report, twilio_report

bp = Blueprint("sms", __name__)


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _services():
    return current_app.extensions["kassa"]


@bp.post("/sms/africastalking")
def africastalking_inbound() -> Response:
    if not at_token_ok():
        return _text("forbidden", 403)
    form = request.form
    if not form.get("id") or not form.get("from"):
        return _text("bad request: id and from are required", 400)
    receive(_services(), Inbound("africastalking", form["id"], form["from"], form.get("text", ""),
                                 form.get("to", "")))
    return _text("OK")


@bp.post("/sms/twilio")
def twilio_inbound() -> Response:
    if not twilio_signature_ok():
        return _text("forbidden: bad X-Twilio-Signature", 403)
    form = request.form
    if not form.get("MessageSid") or not form.get("From"):
        return _text("bad request: MessageSid and From are required", 400)
    receive(_services(), Inbound("twilio", form["MessageSid"], form["From"], form.get("Body", ""),
                                 form.get("To", "")))
    return Response(str(MessagingResponse()), status=200, mimetype="application/xml")


@bp.post("/sms/africastalking/delivery")
def africastalking_delivery() -> Response:
    if not at_token_ok():
        return _text("forbidden", 403)
    return _apply(at_report(request.form))


@bp.post("/sms/twilio/status")
def twilio_status() -> Response:
    if not twilio_signature_ok():
        return _text("forbidden: bad X-Twilio-Signature", 403)
    return _apply(twilio_report(request.form))


def _apply(report) -> Response:
    if report is None:
        return _text("bad request: unknown message id or status", 400)
    receive_report(_services(), report)
    return _text("OK")
