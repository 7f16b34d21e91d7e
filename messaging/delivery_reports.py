"""Delivery reports: a provider says what became of a message; the outbox row follows.

Each provider's status words map to ours in a table in its folder
(``providers/<name>/status.py``); what arrives here is neutral. Reports race and repeat,
so a report may only move a row up :data:`~messaging.models.STATUS_RANK`
(pending < sending < sent < final), never down and never out of a final state.
"""
from __future__ import annotations

import enum
import json
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

import metrics
from messaging.models import STATUS_RANK, OutboxMessage, OutStatus
from providers.base import Delivery, DeliveryReport

if TYPE_CHECKING:
    from services import Services

log = logging.getLogger("kassa.sms")

#: A delivery report, in neutral terms (each provider's folder maps its own status words to these).
Report = DeliveryReport


class Applied(enum.Enum):
    CHANGED = "changed"  # the row moved up the ladder
    UNCHANGED = "unchanged"  # a repeat, or older news than the row already has
    UNKNOWN = "unknown"  # no row has this provider id (yet: the sender may not have saved it)


def apply_report(session: Session, report: Report) -> Applied:
    """Move the row the report is about up the status ladder."""
    row = session.scalar(select(OutboxMessage).where(
        OutboxMessage.provider == report.provider, OutboxMessage.provider_id == report.provider_id)
        .with_for_update())
    if row is None:
        return Applied.UNKNOWN
    status = OutStatus(report.status.value)
    if STATUS_RANK[status] <= STATUS_RANK[row.status]:
        return Applied.UNCHANGED
    row.status = status
    if report.error:
        row.last_error = report.error[:255]
    session.flush()
    metrics.sms_status(report.provider, report.status.value)
    return Applied.CHANGED


# A report can overtake the sender: the provider answers the send, calls back at
# once, and the callback looks for the provider id before the sender has saved
# it. Such a report is parked in Redis for EARLY_SECONDS; the sender takes it as
# soon as it has saved the id. The callback looks again after parking, so
# whichever of the two comes second applies it (applying twice changes nothing).
EARLY_KEY = "kassa:dlr:{}:{}"
EARLY_SECONDS = 3600


def receive_report(services: Services, report: Report) -> Applied:
    """Apply a provider's report, parking it if its message has no provider id yet."""
    with services.db.transaction() as session:
        outcome = apply_report(session, report)
    if outcome is not Applied.UNKNOWN:
        return outcome
    key = EARLY_KEY.format(report.provider, report.provider_id)
    try:
        services.redis.set(key, json.dumps([report.status.value, report.error]), ex=EARLY_SECONDS)
    except Exception as exc:  # nothing else to do: the row keeps its status
        log.warning("could not park an early delivery report %s: %s", key, type(exc).__name__)
        return outcome
    with services.db.transaction() as session:
        outcome = apply_report(session, report)
    if outcome is not Applied.UNKNOWN:
        services.redis.delete(key)
    return outcome


def take_parked(services: Services, provider: str, provider_id: str) -> None:
    """After the sender saved ``provider_id``: apply a report that arrived before it, if any."""
    try:
        raw = services.redis.getdel(EARLY_KEY.format(provider, provider_id))
    except Exception as exc:
        log.warning("could not look for an early delivery report: %s", type(exc).__name__)
        return
    if raw:
        status, error = json.loads(raw)
        with services.db.transaction() as session:
            apply_report(session, Report(provider, provider_id, Delivery(status), error))
