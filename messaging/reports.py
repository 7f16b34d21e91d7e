"""Delivery reports: a provider says what became of a message; the outbox row follows.

Each provider's status words map to ours in a table. Reports race and repeat,
so a report may only move a row up :data:`~messaging.models.STATUS_RANK`
(pending < sending < sent < final), never down and never out of a final state.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging.models import STATUS_RANK, OutboxMessage, OutStatus

AT_STATUS = {
    "Sent": OutStatus.SENT, "Submitted": OutStatus.SENT, "Buffered": OutStatus.SENT,
    "Success": OutStatus.DELIVERED, "Failed": OutStatus.FAILED, "Rejected": OutStatus.REJECTED,
}
TWILIO_STATUS = {
    "queued": OutStatus.SENT, "accepted": OutStatus.SENT, "scheduled": OutStatus.SENT,
    "sending": OutStatus.SENT, "sent": OutStatus.SENT,
    "delivered": OutStatus.DELIVERED, "read": OutStatus.DELIVERED,
    "failed": OutStatus.FAILED, "undelivered": OutStatus.FAILED, "canceled": OutStatus.FAILED,
}
#: Twilio error codes that mean "never send to this number again" (the recipient sent STOP).
TWILIO_REJECTING_ERRORS = frozenset({"21610"})


@dataclass(frozen=True)
class Report:
    provider: str
    provider_id: str
    status: OutStatus
    error: str | None = None


def apply_report(session: Session, report: Report) -> bool:
    """Move the row the report is about up the status ladder; False when nothing changed."""
    row = session.scalar(select(OutboxMessage).where(
        OutboxMessage.provider == report.provider, OutboxMessage.provider_id == report.provider_id)
        .with_for_update())
    if row is None or STATUS_RANK[report.status] <= STATUS_RANK[row.status]:
        return False
    row.status = report.status
    if report.error:
        row.last_error = report.error[:255]
    session.flush()
    return True


def at_report(form) -> Report | None:
    """A Report from Africa's Talking's form, or None when it is malformed."""
    status = AT_STATUS.get(form.get("status", ""))
    if not form.get("id") or status is None:
        return None
    return Report("africastalking", form["id"], status, form.get("failureReason") or None)


def twilio_report(form) -> Report | None:
    """A Report from Twilio's status callback form, or None when it is malformed."""
    status = TWILIO_STATUS.get(form.get("MessageStatus", ""))
    if not form.get("MessageSid") or status is None:
        return None
    error = form.get("ErrorCode") or None
    if error in TWILIO_REJECTING_ERRORS and status == OutStatus.FAILED:
        status = OutStatus.REJECTED
    return Report("twilio", form["MessageSid"], status, f"twilio {error}" if error else None)
