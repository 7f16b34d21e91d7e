"""RQ jobs and scheduler tasks for reminders and broadcasts.

Jobs take ids and plain values, build their own transactions and are safe to
run twice: the outbox's unique ``dedupe_key`` refuses a second copy of any
reminder or broadcast message.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass

from outreach import broadcast as bc
from outreach.planner import BATCH, plan_batch

log = logging.getLogger("kassa.outreach")
UTC = dt.UTC


@dataclass
class PlanSummary:
    batches: int = 0
    planned: int = 0
    due: int = 0
    stale: int = 0
    reminders: int = 0


def run_planner(services, now: dt.datetime | None = None, *, limit: int = BATCH,
                max_batches: int | None = None) -> PlanSummary:
    """Plan until no group is due at ``now`` (default: the clock); one transaction per batch."""
    now = now or dt.datetime.now(UTC)
    summary = PlanSummary()
    while max_batches is None or summary.batches < max_batches:
        with services.db.transaction() as session:
            result = plan_batch(session, now, limit=limit)
        if not result.touched:
            break
        summary.batches += 1
        summary.planned += result.planned
        summary.due += result.due
        summary.stale += result.stale
        summary.reminders += result.reminders
    if summary.reminders or summary.stale:
        log.info("reminders: %s", summary)
    return summary


def run_loan_notices(services, now: dt.datetime | None = None, *, limit: int = BATCH) -> int:
    """Run the daily loan checks due at ``now``; the number of notices written."""
    from outreach.loans import plan_loan_notices

    now = now or dt.datetime.now(UTC)
    notices = 0
    while True:
        with services.db.transaction() as session:
            result = plan_loan_notices(session, now, limit=limit)
        notices += result.notices
        if not result.checked:
            return notices


def loan_notices(now_iso: str | None = None) -> int:
    """RQ job: the loan notices due now (or at ``now_iso``)."""
    from worker import get_services

    return run_loan_notices(get_services(), dt.datetime.fromisoformat(now_iso) if now_iso else None)


def plan_reminders(now_iso: str | None = None) -> dict:
    """RQ job: run the planner (``now_iso`` pins the clock, for replays and tests)."""
    from worker import get_services

    now = dt.datetime.fromisoformat(now_iso) if now_iso else None
    return run_planner(get_services(), now).__dict__


def fan_out(broadcast_id: int, batch: int = bc.FANOUT_BATCH) -> dict:
    """RQ job: fan a confirmed broadcast out into the outbox, resuming from its cursor."""
    from worker import get_services

    return bc.run_fan_out(get_services(), broadcast_id, batch=batch, pause=fan_out_pause()).__dict__


def fan_out_pause() -> float:
    """Seconds to sleep after each batch (``KASSA_FANOUT_PAUSE``): pacing, and kill tests."""
    return float(os.environ.get("KASSA_FANOUT_PAUSE") or 0)


def send_many(outbox_ids: list[int]) -> dict:
    """RQ job: send a chunk of outbox rows in bulk (``messaging.sender.send_many``; idempotent per row)."""
    from messaging.sender import send_many as send

    return send(outbox_ids)


# -- scheduler tasks: fn(services, now), safe to run twice ---------------------------------

def task_plan_reminders(services, now: dt.datetime) -> None:
    """Enqueue the planner (one job id per minute, so a second scheduler adds nothing)."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    services.queue("default").enqueue(plan_reminders, job_id=services.job_id(f"plan-reminders-{minute:%Y%m%dT%H%M}"),
                                      job_timeout="30m")


def task_loan_notices(services, now: dt.datetime) -> None:
    """Enqueue the loan checks (one job id per 5 minutes)."""
    slot = now.astimezone(UTC).replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    services.queue("default").enqueue(loan_notices, job_id=services.job_id(f"loan-notices-{slot:%Y%m%dT%H%M}"), job_timeout="30m")


def task_resume_broadcasts(services, now: dt.datetime) -> None:
    """Re-enqueue the fan-out of broadcasts left half-done (a worker died mid-way)."""
    with services.db.transaction() as session:
        stalled = bc.stalled_broadcasts(session, now)
    for broadcast_id in stalled:
        bc.enqueue_fan_out(services, broadcast_id, attempt=int(time.time() // 60))
