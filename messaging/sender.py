"""The RQ job that sends one outbox row: ``send_outbox(outbox_id)``.

Safe to run twice, and safe when two workers get the same id: a send first
*claims* the row (``pending`` -> ``sending`` in one conditional UPDATE), so
only one job ever hands a row to the provider. Outcomes:

- accepted: ``sent`` with the provider's id (the console marks it ``delivered``);
- permanent error (opted out, invalid number): ``rejected``, never retried;
- transient error: back to ``pending`` with ``retry_at`` and the error, and the
  job raises so RQ retries it with exponential backoff; after
  :data:`MAX_ATTEMPTS` the row is ``failed``.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update

import metrics
from channels import Channel, Outgoing, SendError, Sent, get_channel
from groups.models import Member
from messaging.models import OutboxMessage, OutStatus, Priority
from messaging.ratelimit import RateLimiter
from messaging.reports import take_parked

log = logging.getLogger("kassa.sender")

#: RQ retry intervals (seconds), growing threefold; MAX_ATTEMPTS = first try + these.
RETRY_INTERVALS = [10, 30, 90, 270, 810]
MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1
#: Kinds a member's STOP opts her out of (receipts and replies still go).
OPT_OUT_KINDS = frozenset({"reminder", "broadcast"})


class TransientSendError(RuntimeError):
    """Raised by the job so RQ schedules a retry; the row is pending again."""


@dataclass(frozen=True)
class Claimed:
    id: int
    to: str
    text: str
    bulk: bool
    attempts: int
    language: str = ""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def send_outbox(outbox_id: int) -> str:
    """RQ entry point: send outbox row ``outbox_id`` (by id, loads its own data)."""
    from worker import get_services

    return deliver(get_services(), outbox_id)


def deliver(services, outbox_id: int, channel: Channel | None = None) -> str:
    """Claim, pace, send and record one row; return the row's new status."""
    claimed = claim(services, outbox_id)
    if claimed is None:
        return "skipped"
    channel = channel or get_channel(services.config)
    RateLimiter(services.redis, channel.name, services.config.SMS_RATE_PER_SECOND).wait()
    try:
        sent = channel.send(Outgoing(claimed.id, claimed.to, claimed.text, bulk=claimed.bulk,
                                    language=claimed.language))
    except SendError as exc:
        return _failed(services, claimed, exc)
    _mark_sent(services, claimed.id, sent)
    return "delivered" if sent.delivered else "sent"


def claim(services, outbox_id: int) -> Claimed | None:
    """Move the row from pending to sending (once); None if it is not pending or opted out."""
    with services.db.transaction() as session:
        done = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == OutStatus.PENDING)
            .values(status=OutStatus.SENDING, attempts=OutboxMessage.attempts + 1, updated_at=utcnow())
        ).rowcount
        if not done:
            return None
        row = session.get(OutboxMessage, outbox_id)
        if _opted_out(session, row):
            row.status, row.last_error = OutStatus.REJECTED, "opted out (STOP)"
            return None
        return Claimed(row.id, row.to_phone, row.text, row.priority == Priority.BULK, row.attempts, row.language)


def _opted_out(session, row: OutboxMessage) -> bool:
    if row.kind not in OPT_OUT_KINDS or row.member_id is None:
        return False
    return bool(session.scalar(select(Member.opted_out).where(Member.id == row.member_id)))


def _mark_sent(services, outbox_id: int, sent: Sent) -> None:
    status = OutStatus.DELIVERED if sent.delivered else OutStatus.SENT
    with services.db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == OutStatus.SENDING)
            .values(status=status, provider=sent.provider, provider_id=sent.provider_id,
                    sent_at=utcnow(), updated_at=utcnow(), last_error=None, retry_at=None))
    metrics.sms_status(sent.provider, status.value)
    if sent.provider_id and not sent.delivered:
        take_parked(services, sent.provider, sent.provider_id)  # a report that came before this save


def _failed(services, claimed: Claimed, exc: SendError) -> str:
    """Record a failed attempt; raise for RQ to retry when trying again can help."""
    retry = not exc.permanent and claimed.attempts < MAX_ATTEMPTS
    if exc.permanent:
        status = OutStatus.REJECTED
    else:
        status = OutStatus.PENDING if retry else OutStatus.FAILED
    delay = RETRY_INTERVALS[min(claimed.attempts, len(RETRY_INTERVALS)) - 1]
    with services.db.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claimed.id, OutboxMessage.status == OutStatus.SENDING)
            .values(status=status, provider=exc.provider, last_error=str(exc)[:255], updated_at=utcnow(),
                    retry_at=utcnow() + dt.timedelta(seconds=delay) if retry else None))
    log.warning("outbox %s attempt %s: %s (%s)", claimed.id, claimed.attempts, exc, status.value)
    if status != OutStatus.PENDING:
        metrics.sms_status(exc.provider, status.value)
    if retry:
        raise TransientSendError(str(exc))
    return status.value
