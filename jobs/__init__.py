"""Every RQ entry point and every scheduler task: the top of the program, as ``handlers`` is for HTTP.

- :mod:`jobs.sms`: sending outbox rows (one, a chunk, a drain) and running a stored inbound SMS;
- :mod:`jobs.outreach`: the reminder planner, the loan notices and a broadcast's fan-out;
- :mod:`jobs.schedule`: the periodic tasks the one scheduler runs (``scheduler.py``);
- :mod:`jobs.renamed`: the names these jobs had before, for jobs still queued under them.

An RQ job is called by its dotted name with plain arguments (ids, ISO dates)
and does its work on the process's :class:`services.Services`, which the
worker hands to every job it runs (:func:`running`); the domain modules below
take their services as an argument and never look for them. Code that runs a
job's body itself (tests, a benchmark) passes them the same way.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from services import Services

_services: ContextVar[Services | None] = ContextVar("kassa_job_services", default=None)


@contextmanager
def running(services: Services) -> Iterator[Services]:
    """Run the jobs called inside this block on ``services``."""
    token = _services.set(services)
    try:
        yield services
    finally:
        _services.reset(token)


def current() -> Services:
    """The services of the job being run (set by the worker, or by :func:`running`)."""
    services = _services.get()
    if services is None:
        raise RuntimeError("a Kassa job ran without services: run it in a KassaWorker or inside jobs.running()")
    return services
