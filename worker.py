"""RQ entry points: ``python worker.py work`` (jobs), ``schedule`` (the one scheduler), ``plan`` (once, now).

Jobs get a process-wide :class:`services.Services` built here from the
environment (never at import time) through :func:`get_services`.
"""
from __future__ import annotations

import logging
import sys

from config import Config
from services import QUEUES, Services

log = logging.getLogger("kassa.worker")
_services: Services | None = None


def get_services() -> Services:
    """The worker process's services, built on first use."""
    global _services
    if _services is None:
        cfg = Config.from_env()
        cfg.check()
        _services = Services.build(cfg)
    return _services


def set_services(services: Services | None) -> None:
    """Use ``services`` for jobs run in this process (tests, the CLI)."""
    global _services
    _services = services


def work(burst: bool = False, fork: bool = True) -> None:
    """Run an RQ worker on every queue, highest priority first.

    ``fork=False`` (``python worker.py work --no-fork``) runs jobs in the worker's
    own process (RQ's SimpleWorker): the process's channel, HTTP connections,
    thread pool and database connection then live from job to job, at the price
    of the isolation a forked job has.
    """
    from rq import SimpleWorker, Worker

    services = get_services()
    _preload(services)
    worker_class = Worker if fork else SimpleWorker
    worker = worker_class([services.queue(q) for q in QUEUES], connection=services.redis)
    worker.work(with_scheduler=True, burst=burst)


def _preload(services: Services) -> None:
    """Import what the jobs use before RQ forks a work horse per job, so no job imports it again."""
    import importlib

    import channels

    for module in ("messaging.sender", "messaging.inbound", "outreach.jobs", "outreach.broadcast"):
        importlib.import_module(module)
    channels.get_channel(services.config)  # imports the provider's SDK (the channel itself is built per process)


def schedule() -> None:
    """Run the periodic planner loop (one active scheduler at a time, by a Redis lock)."""
    from scheduler import run_forever

    run_forever(get_services())


def plan() -> None:
    """Run the reminder planner and the loan notices once, now (ops; the scheduler does it every minute)."""
    from outreach.jobs import run_loan_notices, run_planner

    services = get_services()
    log.info("reminders: %s", run_planner(services))
    log.info("loan notices: %s", run_loan_notices(services))


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    commands = {"work": work, "schedule": schedule, "plan": plan}
    if len(argv) < 2 or argv[1] not in commands:
        print("usage: python worker.py work [--no-fork]|schedule|plan", file=sys.stderr)
        return 2
    if argv[1] == "work":
        work(fork="--no-fork" not in argv[2:])
    else:
        commands[argv[1]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
