"""Handing outbox rows to RQ. (The sending job itself lives in messaging.sender.)"""
from __future__ import annotations

import logging

from messaging.models import Priority

log = logging.getLogger("kassa.dispatch")

QUEUE_FOR_PRIORITY = {Priority.REPLY: "high", Priority.NOTICE: "default", Priority.BULK: "bulk"}


def enqueue_send(services, outbox_id: int, priority: int) -> None:
    """Enqueue the send job for one outbox row; a lost enqueue is the sweeper's to fix."""
    try:
        queue = services.queue(QUEUE_FOR_PRIORITY.get(Priority(priority), "default"))
        queue.enqueue("messaging.sender.send_outbox", outbox_id, job_id=f"send-{outbox_id}")
    except Exception:  # Redis down: the row stays pending and the sweeper re-enqueues it
        log.warning("could not enqueue outbox %s; the sweeper will", outbox_id, exc_info=True)
