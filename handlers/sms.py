"""SMS webhooks: inbound messages and delivery reports, one pair of endpoints per provider.

The paths, fields and answers are each provider's (``providers/<name>/``); every
endpoint here does the same: authenticate, turn the provider's form into a neutral
:class:`~providers.Inbound` or :class:`~providers.DeliveryReport`, call one
function, answer. An inbound SMS is stored before the answer; a redelivery gets the
same 200 and changes nothing. Replies never ride in the answer (Twilio's TwiML is
empty): they go through the outbox like every other SMS, so each is tracked to
delivery and rate-limited the same way.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from handlers.auth import authentic, view
from messaging.delivery_reports import receive_report
from messaging.inbound import receive
from providers import Answer, Provider
from providers.registry import PROVIDERS


def _response(answer: Answer) -> Response:
    return Response(answer.body, status=answer.status, mimetype=answer.mimetype)


def inbound(provider: Provider) -> Response:
    assert provider.sms is not None
    if not authentic(provider):
        return _response(Answer(provider.refused, 403))
    sms = provider.sms.parse_inbound(request.form)
    if sms is None:
        return _response(Answer(provider.sms.malformed, 400))
    receive(current_app.extensions["kassa"], sms)
    return _response(provider.sms.stored())


def report(provider: Provider) -> Response:
    assert provider.sms is not None and provider.sms.parse_report is not None
    if not authentic(provider):
        return _response(Answer(provider.refused, 403))
    delivery = provider.sms.parse_report(request.form)
    if delivery is None:
        return _response(Answer("bad request: unknown message id or status", 400))
    receive_report(current_app.extensions["kassa"], delivery)
    return _response(Answer("OK"))


def blueprint() -> Blueprint:
    """Each provider's endpoints, at the paths it names (read from the registry per app)."""
    bp = Blueprint("sms", __name__)
    for p in PROVIDERS.values():
        if p.sms is None:
            continue
        bp.add_url_rule(p.sms.inbound_path, view_func=view(inbound, p, f"{p.name}_inbound"),
                        methods=["POST"])
        if p.sms.report_path is not None:
            bp.add_url_rule(p.sms.report_path, view_func=view(report, p, f"{p.name}_report"),
                            methods=["POST"])
    return bp
