"""Handing outbox rows (and inbox rows) to RQ. The jobs live in the ``jobs`` package, above
every domain module: they are referenced here by name, never imported.

Every job id is prefixed with the database's identity (``services.job_id``):
one Redis may outlive or serve several databases, and ``send-1`` of one must
never be mistaken for ``send-1`` of another."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import metrics
from messaging.models import Priority

if TYPE_CHECKING:
    from services import Services

log = logging.getLogger("kassa.dispatch")

QUEUE_FOR_PRIORITY = {Priority.REPLY: "high", Priority.NOTICE: "default", Priority.BULK: "bulk"}
LIVE_JOB_STATES = frozenset({"queued", "started", "scheduled", "deferred"})

#: The RQ entry points this layer enqueues (``jobs.sms``), by dotted name.
SEND_OUTBOX = "jobs.sms.send_outbox"  # one reply or receipt
SEND_MANY = "jobs.sms.send_many"  # a chunk of reminders or broadcast messages
DRAIN = "jobs.sms.drain"  # every ready row of a priority (the sweeper's recovery)
PROCESS_INBOX = "jobs.sms.process_inbox"  # the command of a stored inbound SMS

#: Retry intervals of a send (seconds), growing threefold; MAX_ATTEMPTS = first try + these.
RETRY_INTERVALS = [10, 30, 90, 270, 810]
MAX_ATTEMPTS = len(RETRY_INTERVALS) + 1


def enqueue_send(services: Services, outbox_id: int, priority: int) -> None:
    """Enqueue the send job for one outbox row; a lost enqueue is the sweeper's to fix.

    Transient provider failures are retried by RQ with exponential backoff
    (the intervals need a worker running with the scheduler, as ``worker.py`` does).
    """
    from rq import Retry

    try:
        queue = services.queue(QUEUE_FOR_PRIORITY.get(Priority(priority), "default"))
        queue.enqueue(SEND_OUTBOX, outbox_id, job_id=services.job_id(f"send-{outbox_id}"),
                      retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS))
        metrics.sms_queued(queue.name)
    except Exception:  # Redis down: the row stays pending and the sweeper re-enqueues it
        log.warning("could not enqueue outbox %s; the sweeper will", outbox_id, exc_info=True)


def enqueue_inbox(services: Services, inbox_id: int) -> None:
    """Enqueue the command run for one stored inbound SMS (the sweeper's path)."""
    try:
        services.queue("high").enqueue(PROCESS_INBOX, inbox_id,
                                       job_id=services.job_id(f"inbox-{inbox_id}"))
    except Exception:
        log.warning("could not enqueue inbox %s; the sweeper will", inbox_id, exc_info=True)


#: Drain jobs the sweeper starts per priority when Redis lost that priority's jobs.
DRAINS = 2


def enqueue_drains(services: Services, priority: int) -> int:
    """Start the drain jobs of ``priority`` that are not running; how many were started."""
    queue = services.queue(QUEUE_FOR_PRIORITY.get(Priority(priority), "default"))
    started = 0
    for k in range(DRAINS):
        job_id = services.job_id(f"drain-{int(priority)}-{k}")
        if job_alive(services, job_id):
            continue
        try:
            queue.enqueue(DRAIN, int(priority), job_id=job_id, job_timeout=-1,
                          result_ttl=0, failure_ttl=3600)
            started += 1
        except Exception:
            log.warning("could not enqueue %s; the next sweep will", job_id, exc_info=True)
    return started


def job_alive(services: Services, job_id: str) -> bool:
    """True when RQ still holds ``job_id`` waiting or running (so re-enqueueing would double it)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        status = Job.fetch(job_id, connection=services.redis).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return getattr(status, "value", status) in LIVE_JOB_STATES
