"""The worker process: ``python worker.py work`` (jobs), ``schedule`` (the one scheduler), ``plan`` (once, now).

The process builds its :class:`services.Services` from the environment
(never at import time) and hands them to every job it runs (the jobs live in
the ``jobs`` package; see :func:`jobs.running`).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import sys
import time
from typing import Any

from rq import Queue, SimpleWorker
from rq.executions import Execution
from rq.job import Job

import jobs
import metrics
from config import Config
from jobs.renamed import KassaJob
from ledger import invalidation
from providers.registry import check_config
from services import QUEUES, Services

log = logging.getLogger("kassa.worker")
_services: Services | None = None


def get_services() -> Services:
    """The worker process's services, built on first use (with the ledger's cache hooks installed)."""
    global _services
    if _services is None:
        cfg = Config.from_env()
        check_config(cfg)
        _services = start(Services.build(cfg))
    return _services


def set_services(services: Services | None) -> None:
    """Use ``services`` for the jobs this process runs (tests, the CLI)."""
    global _services
    _services = services if services is None else start(services)


def start(services: Services) -> Services:
    """What a process that runs jobs installs on its services before the first job."""
    invalidation.install(services.db.sessionmaker, lambda: services.redis)
    return services


class KassaWorker(SimpleWorker):
    """An RQ worker that runs each job in its own process (no fork per job) and times it.

    Kassa's jobs are short database and HTTP calls: a fork per SMS cost more
    than the send, and a forked child would leave its metrics in a file of
    its own for every job. Run more worker processes for more throughput.
    Every job runs on this worker's services; jobs enqueued under a name they
    had before run under their new one (:mod:`jobs.renamed`).
    """

    job_class = KassaJob

    def __init__(self, *args: Any, services: Services | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._services = services

    @property
    def services(self) -> Services:
        """The services given, else this process's (built when the first job runs)."""
        if self._services is None:
            self._services = get_services()
        return self._services

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        started = time.perf_counter()
        waited = None
        if job.enqueued_at is not None:
            enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=dt.UTC)
            waited = (dt.datetime.now(dt.UTC) - enqueued).total_seconds()
        ok = False
        try:
            with jobs.running(self.services):
                ok = super().perform_job(job, queue, execution)
            return ok
        finally:
            metrics.job_done(job.func_name or "", queue.name, waited, time.perf_counter() - started, bool(ok))


def work(burst: bool = False) -> None:
    """Run an RQ worker on every queue, highest priority first; jobs run in its own process
    (``--no-fork`` is accepted for older scripts: it is the only way now)."""
    from logsetup import rq_log_level

    services = get_services()
    _preload(services)
    worker = KassaWorker([services.queue(q) for q in QUEUES], connection=services.redis, services=services,
                         name=f"{socket.gethostname()}.{os.getpid()}")  # rq info shows host and pid
    worker.work(with_scheduler=True, burst=burst, logging_level=rq_log_level())


def _preload(services: Services) -> None:
    """Import what the jobs use before the first job, so no job pays for the imports."""
    import importlib

    from providers.registry import get_channel

    for module in ("jobs.sms", "jobs.outreach", "jobs.schedule"):
        importlib.import_module(module)
    get_channel(services.config)  # imports the provider's SDK (the channel itself is built per process)


def schedule() -> None:
    """Run the periodic planner loop (one active scheduler at a time, by a Redis lock)."""
    from scheduler import run_forever

    run_forever(get_services())


def plan() -> None:
    """Run the reminder planner and the loan notices once, now (ops; the scheduler does it every minute)."""
    from outreach.loans import run_loan_notices
    from outreach.planner import run_planner

    services = get_services()
    log.info("reminders: %s", run_planner(services))
    log.info("loan notices: %s", run_loan_notices(services))


def main(argv: list[str]) -> int:
    from logsetup import configure_logging

    configure_logging()
    commands = {"work": work, "schedule": schedule, "plan": plan}
    if len(argv) < 2 or argv[1] not in commands:
        print("usage: python worker.py work [--no-fork]|schedule|plan", file=sys.stderr)
        return 2
    try:
        commands[argv[1]]()
    except KeyboardInterrupt:  # Ctrl-C on `make run`: the whole terminal's process group gets it
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
