"""Inbound SMS: store first (so a 200 means "kept"); the command runs later, in a job.

``receive`` is what the webhooks call. It inserts the inbox row
(``INSERT ... ON CONFLICT DO NOTHING`` on the unique provider and message id),
so a redelivery finds the row there and changes nothing, and after the commit
enqueues the ``jobs.sms.process_inbox(inbox_id)`` job on the ``high`` queue.
The webhook thus answers in about the time of one INSERT, however big the
command (a treasurer's SMS for twenty members posts twenty receipts).

The job runs the command (:func:`commands.inbox.process`, above this layer)
once; if it crashes, the row stays ``received`` and the sweeper hands it to a
job again; after :data:`MAX_ATTEMPTS` crashes it is ``failed`` for a person
to look at.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

import metrics
from db import on_commit
from groups.phones import try_normalise
from messaging.dispatch import enqueue_inbox
from messaging.models import InboxMessage, InStatus
from providers import Inbound  # one SMS as any provider delivers it, in neutral terms

if TYPE_CHECKING:
    from services import Services

log = logging.getLogger("kassa.inbound")
MAX_ATTEMPTS = 5
UNIQUE = ["provider", "provider_message_id"]  # one row per provider's message id


@dataclass(frozen=True)
class Stored:
    inbox_id: int | None  # None for a redelivery
    created: bool


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def store(session: Session, sms: Inbound) -> Stored:
    """Insert the inbox row unless this provider's message id is already there."""
    phone = try_normalise(sms.phone) or sms.phone.strip()[:32]
    values: dict[str, Any] = dict(provider=sms.provider, provider_message_id=sms.message_id[:80], from_phone=phone,
                  to=sms.to[:32], text=sms.text, status=InStatus.RECEIVED, attempts=0, received_at=utcnow())
    dialect = session.get_bind().dialect.name
    stmt: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(InboxMessage).on_conflict_do_nothing(index_elements=UNIQUE)
    elif dialect == "sqlite":
        stmt = sqlite.insert(InboxMessage).on_conflict_do_nothing(index_elements=UNIQUE)
    else:  # any other database: the unique constraint still refuses the copy
        return _store_portable(session, values)
    new_id = session.execute(stmt.values(**values).returning(InboxMessage.id)).scalar()
    return Stored(new_id, new_id is not None)


def _store_portable(session: Session, values: dict[str, Any]) -> Stored:
    from sqlalchemy.exc import IntegrityError

    try:
        with session.begin_nested():
            new_id = session.execute(insert(InboxMessage).values(**values).returning(InboxMessage.id)).scalar()
    except IntegrityError:
        return Stored(None, False)
    return Stored(new_id, True)


def receive(services: Services, sms: Inbound) -> Stored:
    """Store ``sms`` (committed before this returns); a new one gets its command run by a job."""
    with services.db.transaction() as session:
        stored = store(session, sms)
        if stored.created:
            on_commit(session, enqueue_inbox, stored.inbox_id)
    if stored.created:
        metrics.sms_received(sms.provider)
    return stored
