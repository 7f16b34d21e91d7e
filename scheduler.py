"""The periodic planner: one loop, one active instance (a Redis lock), many tasks.

The tasks are :data:`jobs.schedule.TASKS`: plain functions
``task(services, now)`` run every ``interval`` seconds; they enqueue RQ jobs
or write outbox rows and are safe to run twice, so a restarted or duplicated
scheduler adds nothing.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from jobs.schedule import TASKS, Task
from services import Services

log = logging.getLogger("kassa.scheduler")

LOCK_KEY = "kassa:scheduler:lock"
LOCK_TTL = 30


def tasks() -> list[Task]:
    """Every periodic task."""
    return list(TASKS)


def run_forever(services: Services, sleep: Callable[[float], None] = time.sleep) -> None:
    """Hold the lock (or wait for it), run due tasks, repeat."""
    last: dict[str, float] = {}
    lock = services.redis.lock(LOCK_KEY, timeout=LOCK_TTL, blocking=False)
    while True:
        if lock.owned() and lock.extend(LOCK_TTL, replace_ttl=True) or lock.acquire(blocking=False):
            run_due(services, last, time.monotonic(), dt.datetime.now(dt.UTC))
        sleep(1.0)


def run_due(services: Services, last: dict[str, float], mono: float, now: dt.datetime) -> None:
    for task in tasks():
        if mono - last.get(task.name, -1e18) >= task.interval:
            last[task.name] = mono
            try:
                task.fn(services, now)
            except Exception:
                log.exception("scheduled task %s failed", task.name)
