"""Prometheus metrics: every number Kassa exposes, and the one function each caller uses.

Counters and histograms are recorded where things happen (a USSD hop, an SMS
received, an outbox row changing status, an RQ job); gauges that describe
state (queue depth, the oldest pending SMS) are read when ``/metrics`` is
scraped. With ``PROMETHEUS_MULTIPROC_DIR`` set (``flask up`` sets it; set it
for gunicorn and the workers in production, one empty directory per machine,
emptied at start) every process on the machine writes its numbers there and
the web process's ``/metrics`` adds them all up (prometheus-client's
multiprocess mode). Without it each process counts for itself (tests).

Callers import this module and call a function; they never touch
prometheus-client themselves, so the names below are the whole contract.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from services import Services

log = logging.getLogger("kassa.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_JOB_LATENCY = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

USSD_HOPS = Counter("kassa_ussd_hops_total", "USSD hops answered", ["provider", "outcome"])
USSD_HOP_SECONDS = Histogram("kassa_ussd_hop_seconds", "Time to answer one USSD hop", ["provider"],
                             buckets=_LATENCY)
SMS_RECEIVED = Counter("kassa_sms_received_total", "Inbound SMS stored", ["provider"])
SMS_QUEUED = Counter("kassa_sms_queued_total", "Outbox rows handed to RQ for sending", ["queue"])
SMS_STATUS = Counter("kassa_sms_total", "Outbound SMS by the status they reached (sent, delivered, failed, "
                     "rejected) and provider", ["provider", "status"])
JOB_SECONDS = Histogram("kassa_job_seconds", "RQ job run time", ["job", "outcome"], buckets=_JOB_LATENCY)
JOB_WAIT_SECONDS = Histogram("kassa_job_wait_seconds", "Time an RQ job waited in its queue", ["queue"],
                             buckets=_JOB_LATENCY)


# -- what callers record ------------------------------------------------------------------

def ussd_hop(provider: str, seconds: float, outcome: str = "ok") -> None:
    """One USSD hop answered (``outcome``: ok, busy, refused, bad_request)."""
    USSD_HOPS.labels(provider, outcome).inc()
    USSD_HOP_SECONDS.labels(provider).observe(seconds)


def sms_received(provider: str) -> None:
    SMS_RECEIVED.labels(provider).inc()


def sms_queued(queue: str, n: int = 1) -> None:
    if n:
        SMS_QUEUED.labels(queue).inc(n)


def sms_status(provider: str | None, status: str, count: int = 1) -> None:
    """``count`` outbox rows reached ``status`` (sent, delivered, failed, rejected) at ``provider``."""
    SMS_STATUS.labels(provider or "none", status).inc(count)


def job_done(job: str, queue: str, waited: float | None, seconds: float, ok: bool) -> None:
    JOB_SECONDS.labels(job, "ok" if ok else "failed").observe(seconds)
    if waited is not None:
        JOB_WAIT_SECONDS.labels(queue).observe(max(0.0, waited))


# -- scraping -----------------------------------------------------------------------------

class StateCollector:
    """Gauges read at scrape time: RQ queue depth and the outbox's oldest pending age."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        from services import QUEUES

        depth = GaugeMetricFamily("kassa_queue_depth", "Jobs waiting in each RQ queue", labels=["queue"])
        try:
            for name in QUEUES:
                depth.add_metric([name], self.services.queue(name).count)
        except Exception as exc:  # Redis down: /ready says so; the other metrics still go out
            log.warning("queue depth unavailable: %s", type(exc).__name__)
        yield depth
        age = GaugeMetricFamily("kassa_outbox_oldest_pending_seconds",
                                "Age of the oldest outbox row still pending (0 when none)")
        try:
            age.add_metric([], oldest_pending_age(self.services))
        except Exception as exc:
            log.warning("outbox age unavailable: %s", type(exc).__name__)
        yield age


def oldest_pending_age(services: Services, now: dt.datetime | None = None) -> float:
    from sqlalchemy import func, select

    from messaging.models import OutboxMessage, OutStatus

    with services.db.engine.connect() as conn:
        oldest: dt.datetime | str | None = conn.execute(select(func.min(OutboxMessage.created_at))
                              .where(OutboxMessage.status == OutStatus.PENDING)).scalar()
    if oldest is None:
        return 0.0
    if isinstance(oldest, str):  # SQLite may hand back the text it stores
        oldest = dt.datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return max(0.0, ((now or dt.datetime.now(dt.UTC)) - oldest).total_seconds())


def render(services: Services) -> bytes:
    """The text ``/metrics`` answers: this process's (or all processes') numbers plus the state gauges."""
    from prometheus_client import REGISTRY

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated in prometheus-client
        out = generate_latest(registry)
    else:
        out = generate_latest(REGISTRY)
    state = CollectorRegistry()
    state.register(StateCollector(services))
    return out + generate_latest(state)
