"""The sweeper: the database remembers what Redis may forget.

Run every minute by the scheduler (``jobs.schedule.TASKS``), safe to run twice:

- outbox rows still ``pending`` a minute after they were written (or after
  their backoff) in a priority whose RQ queue is empty (Redis lost the jobs,
  or never got them) are handed to :data:`~messaging.dispatch.DRAINS` drain
  jobs per priority, not one job per row: each drain claims and sends ready
  rows a batch at a time until none is left, so recovery after a ``FLUSHALL``
  takes as long as sending takes;
- a row ``sending`` for ten minutes belongs to a worker that died mid-batch:
  if the send journal (Redis) holds the provider's answer, the row is recorded
  as sent; otherwise it goes back to ``pending`` (the provider may or may not
  have taken it; a rare duplicate receipt is better than a lost one);
- an inbound SMS still ``received`` a minute after it arrived (the web process
  died between storing and running it) gets its command run by a job.

The send jobs claim rows before sending, so a row handed over twice is sent once.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select, update

from messaging.dispatch import DRAINS, QUEUE_FOR_PRIORITY, enqueue_drains, enqueue_inbox, job_alive
from messaging.models import InboxMessage, InStatus, OutboxMessage, OutStatus

if TYPE_CHECKING:
    from services import Services

log = logging.getLogger("kassa.sweeper")

PENDING_AFTER = dt.timedelta(seconds=60)
SENDING_AFTER = dt.timedelta(minutes=10)
INBOX_AFTER = dt.timedelta(seconds=60)
BATCH = 1000


def sweep(services: Services, now: dt.datetime) -> int:
    """Recover lost work; return how many rows were handed to RQ again."""
    released = _release_stuck_sends(services, now)
    return released + _requeue_outbox(services, now) + _requeue_inbox(services, now)


def _release_stuck_sends(services: Services, now: dt.datetime) -> int:
    """Rows a dead worker claimed: recorded from the journal when it answers, else pending and drained."""
    from messaging.sender import journalled, record_journalled

    stuck = (OutboxMessage.status == OutStatus.SENDING, OutboxMessage.updated_at < now - SENDING_AFTER)
    released = 0
    priorities: set[int] = set()
    while True:
        with services.db.transaction() as session:
            rows = session.execute(select(OutboxMessage.id, OutboxMessage.priority).where(*stuck)
                                   .order_by(OutboxMessage.id).limit(BATCH)).all()
        if not rows:
            break
        found = journalled(services, [oid for oid, _ in rows])
        record_journalled(services, found)
        lost = [(oid, prio) for oid, prio in rows if oid not in found]
        with services.db.transaction() as session:
            session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_([oid for oid, _ in lost]), *stuck)
                .values(status=OutStatus.PENDING, last_error="send interrupted; retrying", updated_at=now))
        priorities.update(prio for _, prio in lost)
        released += len(lost)
        if len(rows) < BATCH:
            break
    for prio in sorted(priorities):
        enqueue_drains(services, prio)
    if released:
        log.info("sweeper released %d rows of a dead worker", released)
    return released


def _requeue_outbox(services: Services, now: dt.datetime) -> int:
    """Hand each priority with lost ready rows to its drain jobs; how many rows were lost."""
    busy = _busy_priorities(services)
    with services.db.transaction() as session:
        counts = session.execute(
            select(OutboxMessage.priority, func.count())
            .where(OutboxMessage.status == OutStatus.PENDING,
                   OutboxMessage.updated_at < now - PENDING_AFTER,
                   or_(OutboxMessage.retry_at.is_(None), OutboxMessage.retry_at <= now))
            .group_by(OutboxMessage.priority)).all()
    lost = 0
    for prio, count in counts:
        if prio in busy or _draining(services, prio):
            continue
        enqueue_drains(services, prio)
        lost += count
    if lost:
        log.info("sweeper handed %d outbox rows to drain jobs", lost)
    return lost


def _draining(services: Services, priority: int) -> bool:
    return any(job_alive(services, services.job_id(f"drain-{int(priority)}-{k}")) for k in range(DRAINS))


def _busy_priorities(services: Services) -> set[int]:
    """Priorities whose queue still holds jobs: their pending rows wait in those jobs.

    Reminders and broadcasts are sent by chunk jobs (``jobs.sms.send_many``),
    not one ``send-{id}`` job per row, so a row pending behind a long rate-limited
    queue is not lost: it is waiting its turn. Only when its queue has drained (or
    Redis lost it) are still-pending rows handed to drain jobs.
    """
    return {int(prio) for prio, name in QUEUE_FOR_PRIORITY.items() if services.queue(name).count}


def _requeue_inbox(services: Services, now: dt.datetime) -> int:
    with services.db.transaction() as session:
        ids = session.scalars(
            select(InboxMessage.id)
            .where(InboxMessage.status == InStatus.RECEIVED, InboxMessage.received_at < now - INBOX_AFTER)
            .order_by(InboxMessage.id).limit(BATCH)).all()
    lost = [i for i in ids if not job_alive(services, services.job_id(f"inbox-{i}"))]
    for inbox_id in lost:
        enqueue_inbox(services, inbox_id)
    return len(lost)
