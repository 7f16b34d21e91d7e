"""The scheduler's periodic tasks: ``task(services, now)``, each safe to run twice.

``scheduler.py`` runs them (one active scheduler, by a Redis lock). A task
enqueues RQ jobs under ids that a second scheduler would repeat (so it adds
nothing) or writes rows under unique keys. Features add their task to
:data:`TASKS`.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from field.plans import announce_due
from jobs import outreach as outreach_jobs
from messaging.sweeper import sweep
from outreach import broadcast as bc
from outreach.loan_expiry import expire_due_loans
from reports.maintain import refresh_due
from services import Services

UTC = dt.UTC
#: Groups whose date-dependent figures are recomputed per transaction.
FIGURES_BATCH = 2000


@dataclass(frozen=True)
class Task:
    name: str
    interval: int  # seconds
    fn: Callable[[Services, dt.datetime], object]


def plan_reminders(services: Services, now: dt.datetime) -> None:
    """Enqueue the planner (one job id per minute, so a second scheduler adds nothing)."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    services.queue("default").enqueue(outreach_jobs.plan_reminders, job_timeout="30m",
                                      job_id=services.job_id(f"plan-reminders-{minute:%Y%m%dT%H%M}"))


def loan_notices(services: Services, now: dt.datetime) -> None:
    """Enqueue the loan checks (one job id per 5 minutes)."""
    slot = now.astimezone(UTC).replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    services.queue("default").enqueue(outreach_jobs.loan_notices, job_timeout="30m",
                                      job_id=services.job_id(f"loan-notices-{slot:%Y%m%dT%H%M}"))


def resume_broadcasts(services: Services, now: dt.datetime) -> None:
    """Re-enqueue the fan-out of broadcasts left half-done (a worker died mid-way)."""
    with services.db.transaction() as session:
        stalled = bc.stalled_broadcasts(session, now)
    for broadcast_id in stalled:
        bc.enqueue_fan_out(services, broadcast_id, attempt=int(time.time() // 60))


def refresh_figures(services: Services, now: dt.datetime) -> int:
    """PAR30, overdue loans and repayment rate of every group with loans, once per local day."""
    done = 0
    while True:
        with services.db.transaction() as session:
            n = refresh_due(session, now, FIGURES_BATCH)
        done += n
        if n < FIGURES_BATCH:
            return done


def expire_loans(services: Services, now: dt.datetime) -> None:
    """Approved loans never paid out lapse after the group's number of meetings."""
    with services.db.transaction() as session:
        expire_due_loans(session, now)


def announce_visits(services: Services, now: dt.datetime) -> None:
    """Announce the mobile-team visits whose time has come."""
    with services.db.transaction() as session:
        announce_due(session, now)


TASKS: tuple[Task, ...] = (
    Task("sms-sweeper", 60, sweep),  # re-enqueue outbox/inbox rows Redis lost
    Task("plan-reminders", 60, plan_reminders),
    Task("loan-notices", 300, loan_notices),
    Task("resume-broadcasts", 120, resume_broadcasts),
    Task("report-figures", 300, refresh_figures),  # PAR30 and repayment rate move with the date
    Task("expire-loans", 300, expire_loans),  # approved loans never paid out
    Task("announce-visits", 60, announce_visits),  # mobile-team visit plans whose time has come
)
