"""Twilio status callbacks (``MessageSid, MessageStatus, ErrorCode, ...``)."""
from __future__ import annotations

from providers.base import Delivery, DeliveryReport, Form

NAME = "twilio"

#: Twilio's ``MessageStatus`` -> ours (``receiving``/``received`` are inbound: not ours to apply).
STATUS: dict[str, Delivery] = {
    "queued": Delivery.SENT, "accepted": Delivery.SENT, "scheduled": Delivery.SENT,
    "sending": Delivery.SENT, "sent": Delivery.SENT,
    "delivered": Delivery.DELIVERED, "read": Delivery.DELIVERED,
    "failed": Delivery.FAILED, "undelivered": Delivery.FAILED, "canceled": Delivery.FAILED,
}
#: Error codes that mean "never send to this number again" (the recipient sent STOP): a failure is a rejection.
REJECTING_ERRORS = frozenset({"21610"})


def report(form: Form) -> DeliveryReport | None:
    """The callback in neutral terms; None without ``MessageSid`` or with a status not in :data:`STATUS`."""
    status = STATUS.get(form.get("MessageStatus", ""))
    if not form.get("MessageSid") or status is None:
        return None
    error = form.get("ErrorCode") or None
    if error in REJECTING_ERRORS and status == Delivery.FAILED:
        status = Delivery.REJECTED
    return DeliveryReport(NAME, form["MessageSid"], status, f"twilio {error}" if error else None)
