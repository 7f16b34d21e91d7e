"""Africa's Talking delivery reports (``id, status, phoneNumber, networkCode, failureReason, retryCount``)."""
from __future__ import annotations

from providers.base import Delivery, DeliveryReport, Form

NAME = "africastalking"

#: Africa's Talking's status word -> ours.
STATUS: dict[str, Delivery] = {
    "Sent": Delivery.SENT,  # left Africa's Talking
    "Submitted": Delivery.SENT,  # handed to the operator
    "Buffered": Delivery.SENT,  # queued at the operator
    "Success": Delivery.DELIVERED,  # reached the handset
    "Failed": Delivery.FAILED,
    "Rejected": Delivery.REJECTED,
}


def report(form: Form) -> DeliveryReport | None:
    """The report in neutral terms; None without an ``id`` or with a status not in :data:`STATUS`."""
    status = STATUS.get(form.get("status", ""))
    if not form.get("id") or status is None:
        return None
    return DeliveryReport(NAME, form["id"], status, form.get("failureReason") or None)
