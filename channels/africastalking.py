"""Africa's Talking through its official SDK (``SMSService.send``).

A 2xx answer can still carry a failed recipient, so each recipient's
``statusCode`` is looked up in :data:`STATUS_CODES`; an HTTP error or a network
failure is transient.
"""
from __future__ import annotations

import json

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService

from channels import Outgoing, SendError, Sent

NAME = "africastalking"
OK, TRANSIENT, PERMANENT = "ok", "transient", "permanent"

#: Per-recipient statusCode (AT SMS docs) -> what it means for us.
STATUS_CODES: dict[int, str] = {
    100: OK,  # Processed
    101: OK,  # Sent
    102: OK,  # Queued
    401: TRANSIENT,  # RiskHold: held for review, may pass later
    402: PERMANENT,  # InvalidSenderId
    403: PERMANENT,  # InvalidPhoneNumber
    404: PERMANENT,  # UnsupportedNumberType
    405: TRANSIENT,  # InsufficientBalance: fine once topped up
    406: PERMANENT,  # UserInBlacklist (opted out)
    407: TRANSIENT,  # CouldNotRoute
    409: PERMANENT,  # DoNotDisturbRejection
    500: TRANSIENT,  # InternalServerError
    501: TRANSIENT,  # GatewayError
    502: TRANSIENT,  # RejectedByGateway
}


class AfricasTalkingChannel:
    name = NAME

    def __init__(self, username: str, api_key: str, sender_id: str | None = None) -> None:
        self.sms = SMSService(username, api_key)  # an instance, not the SDK's module globals
        self.sender_id = sender_id or None

    def send(self, msg: Outgoing) -> Sent:
        try:
            answer = self.sms.send(msg.text, [msg.to], sender_id=self.sender_id, enqueue=msg.bulk)
        except ValueError as exc:  # the SDK refuses a malformed number before any HTTP
            raise SendError(NAME, "invalid_number", str(exc), permanent=True) from None
        except (AfricasTalkingException, requests.RequestException) as exc:
            raise SendError(NAME, "http", str(exc)[:200], permanent=False) from None
        return _recipient_result(_as_dict(answer))


def _as_dict(answer) -> dict:
    """The SDK returns a dict only for an exact ``application/json`` answer, else text."""
    if isinstance(answer, dict):
        return answer
    try:
        return json.loads(answer)
    except (TypeError, ValueError):
        raise SendError(NAME, "bad_answer", str(answer)[:200], permanent=False) from None


def _recipient_result(data: dict) -> Sent:
    recipients = (data.get("SMSMessageData") or {}).get("Recipients") or []
    if not recipients:
        message = (data.get("SMSMessageData") or {}).get("Message", "no recipient in answer")
        raise SendError(NAME, "no_recipient", str(message)[:200], permanent=False)
    first = recipients[0]
    code = int(first.get("statusCode", 0))
    verdict = STATUS_CODES.get(code, TRANSIENT if code >= 500 else PERMANENT)
    if verdict != OK:
        raise SendError(NAME, str(code), str(first.get("status", "")), permanent=verdict == PERMANENT)
    return Sent(provider=NAME, provider_id=str(first["messageId"]))
