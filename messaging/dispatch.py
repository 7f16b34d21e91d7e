"""Handing outbox rows (and inbox rows) to RQ. The jobs live in messaging.sender
and messaging.inbound; they are referenced by name so this module stays light.

Every job id is prefixed with the database's identity (``services.job_id``):
one Redis may outlive or serve several databases, and ``send-1`` of one must
never be mistaken for ``send-1`` of another."""
from __future__ import annotations

import logging

import metrics
from messaging.models import Priority

log = logging.getLogger("kassa.dispatch")

QUEUE_FOR_PRIORITY = {Priority.REPLY: "high", Priority.NOTICE: "default", Priority.BULK: "bulk"}
LIVE_JOB_STATES = frozenset({"queued", "started", "scheduled", "deferred"})


def enqueue_send(services, outbox_id: int, priority: int) -> None:
    """Enqueue the send job for one outbox row; a lost enqueue is the sweeper's to fix.

    Transient provider failures are retried by RQ with exponential backoff
    (the intervals need a worker running with the scheduler, as ``worker.py`` does).
    """
    from rq import Retry

    from messaging.sender import RETRY_INTERVALS

    try:
        queue = services.queue(QUEUE_FOR_PRIORITY.get(Priority(priority), "default"))
        queue.enqueue("messaging.sender.send_outbox", outbox_id, job_id=services.job_id(f"send-{outbox_id}"),
                      retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS))
        metrics.sms_queued(queue.name)
    except Exception:  # Redis down: the row stays pending and the sweeper re-enqueues it
        log.warning("could not enqueue outbox %s; the sweeper will", outbox_id, exc_info=True)


def enqueue_inbox(services, inbox_id: int) -> None:
    """Enqueue the command run for one stored inbound SMS (the sweeper's path)."""
    try:
        services.queue("high").enqueue("messaging.inbound.process_inbox", inbox_id,
                                       job_id=services.job_id(f"inbox-{inbox_id}"))
    except Exception:
        log.warning("could not enqueue inbox %s; the sweeper will", inbox_id, exc_info=True)


#: Drain jobs the sweeper starts per priority when Redis lost that priority's jobs.
DRAINS = 2


def enqueue_drains(services, priority: int) -> int:
    """Start the drain jobs of ``priority`` that are not running; how many were started."""
    queue = services.queue(QUEUE_FOR_PRIORITY.get(Priority(priority), "default"))
    started = 0
    for k in range(DRAINS):
        job_id = services.job_id(f"drain-{int(priority)}-{k}")
        if job_alive(services, job_id):
            continue
        try:
            queue.enqueue("messaging.sender.drain", int(priority), job_id=job_id, job_timeout=-1,
                          result_ttl=0, failure_ttl=3600)
            started += 1
        except Exception:
            log.warning("could not enqueue %s; the next sweep will", job_id, exc_info=True)
    return started


def job_alive(services, job_id: str) -> bool:
    """True when RQ still holds ``job_id`` waiting or running (so re-enqueueing would double it)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        status = Job.fetch(job_id, connection=services.redis).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return getattr(status, "value", status) in LIVE_JOB_STATES
