"""The sweeper: the database remembers what Redis may forget.

Run every minute by the scheduler (``scheduler.tasks()``), safe to run twice:

- an outbox row still ``pending`` a minute after it was written (or after its
  backoff) whose send job RQ no longer holds is enqueued again;
- a row ``sending`` for ten minutes belongs to a worker that died mid-send:
  it goes back to ``pending`` (the provider may or may not have taken it; a
  rare duplicate receipt is better than a lost one);
- an inbound SMS still ``received`` a minute after it arrived (the web process
  died between storing and running it) gets its command run by a job.

The send job claims a row before sending, so a row enqueued twice is sent once.
"""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import or_, select, update

from messaging.dispatch import QUEUE_FOR_PRIORITY, enqueue_inbox, enqueue_send, job_alive
from messaging.models import InboxMessage, InStatus, OutboxMessage, OutStatus

log = logging.getLogger("kassa.sweeper")

PENDING_AFTER = dt.timedelta(seconds=60)
SENDING_AFTER = dt.timedelta(minutes=10)
INBOX_AFTER = dt.timedelta(seconds=60)
BATCH = 1000


def sweep(services, now: dt.datetime) -> int:
    """Recover lost work; return how many rows were handed to RQ again."""
    released = _release_stuck_sends(services, now)
    return released + _requeue_outbox(services, now) + _requeue_inbox(services, now)


def _release_stuck_sends(services, now: dt.datetime) -> int:
    """Rows a dead worker claimed: pending again, and enqueued at once."""
    stuck = (OutboxMessage.status == OutStatus.SENDING, OutboxMessage.updated_at < now - SENDING_AFTER)
    with services.db.transaction() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.priority).where(*stuck)
                               .limit(BATCH).with_for_update()).all()
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_([oid for oid, _ in rows]), *stuck)
            .values(status=OutStatus.PENDING, last_error="send interrupted; retrying", updated_at=now))
    for oid, prio in rows:
        enqueue_send(services, oid, prio)
    return len(rows)


def _requeue_outbox(services, now: dt.datetime) -> int:
    with services.db.transaction() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.priority)
            .where(OutboxMessage.status == OutStatus.PENDING,
                   OutboxMessage.updated_at < now - PENDING_AFTER,
                   or_(OutboxMessage.retry_at.is_(None), OutboxMessage.retry_at <= now))
            .order_by(OutboxMessage.priority, OutboxMessage.id).limit(BATCH)).all()
    busy = _busy_priorities(services)
    lost = [(oid, prio) for oid, prio in rows
            if prio not in busy and not job_alive(services, f"send-{oid}")]
    for oid, prio in lost:
        enqueue_send(services, oid, prio)
    if lost:
        log.info("sweeper re-enqueued %d outbox rows", len(lost))
    return len(lost)


def _busy_priorities(services) -> set[int]:
    """Priorities whose queue still holds jobs: their pending rows wait in those jobs.

    Reminders and broadcasts are sent by chunk jobs (``outreach.jobs.send_many``),
    not one ``send-{id}`` job per row, so a row pending behind a long rate-limited
    queue is not lost: it is waiting its turn. Only when its queue has drained (or
    Redis lost it) is a still-pending row handed to RQ again.
    """
    return {int(prio) for prio, name in QUEUE_FOR_PRIORITY.items() if services.queue(name).count}


def _requeue_inbox(services, now: dt.datetime) -> int:
    with services.db.transaction() as session:
        ids = session.scalars(
            select(InboxMessage.id)
            .where(InboxMessage.status == InStatus.RECEIVED, InboxMessage.received_at < now - INBOX_AFTER)
            .order_by(InboxMessage.id).limit(BATCH)).all()
    lost = [i for i in ids if not job_alive(services, f"inbox-{i}")]
    for inbox_id in lost:
        enqueue_inbox(services, inbox_id)
    return len(lost)
