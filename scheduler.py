"""The periodic planner: one loop, one active instance (a Redis lock), many tasks.

Each task is a plain function ``task(services, now)`` run every ``interval``
seconds; tasks enqueue RQ jobs or write outbox rows and are safe to run twice,
so a restarted or duplicated scheduler adds nothing.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("kassa.scheduler")

LOCK_KEY = "kassa:scheduler:lock"
LOCK_TTL = 30


@dataclass(frozen=True)
class Task:
    name: str
    interval: int  # seconds
    fn: Callable[..., None]


def tasks() -> list[Task]:
    """Every periodic task. Features add theirs here."""
    from field.plans import task_announce_visits
    from messaging.sweeper import sweep
    from outreach.jobs import task_loan_notices, task_plan_reminders, task_resume_broadcasts
    from outreach.loan_expiry import task_expire_loans
    from reports.jobs import task_refresh_figures

    return [
        Task("sms-sweeper", 60, sweep),  # re-enqueue outbox/inbox rows Redis lost
        Task("plan-reminders", 60, task_plan_reminders),
        Task("loan-notices", 300, task_loan_notices),
        Task("resume-broadcasts", 120, task_resume_broadcasts),
        Task("report-figures", 300, task_refresh_figures),  # PAR30 and repayment rate move with the date
        Task("expire-loans", 300, task_expire_loans),  # approved loans never paid out
        Task("announce-visits", 60, task_announce_visits),  # mobile-team visit plans whose time has come
    ]


def run_forever(services, sleep: Callable[[float], None] = time.sleep) -> None:
    """Hold the lock (or wait for it), run due tasks, repeat."""
    last: dict[str, float] = {}
    lock = services.redis.lock(LOCK_KEY, timeout=LOCK_TTL, blocking=False)
    while True:
        if lock.owned() and lock.extend(LOCK_TTL, replace_ttl=True) or lock.acquire(blocking=False):
            run_due(services, last, time.monotonic(), dt.datetime.now(dt.UTC))
        sleep(1.0)


def run_due(services, last: dict[str, float], mono: float, now: dt.datetime) -> None:
    for task in tasks():
        if mono - last.get(task.name, -1e18) >= task.interval:
            last[task.name] = mono
            try:
                task.fn(services, now)
            except Exception:
                log.exception("scheduled task %s failed", task.name)
