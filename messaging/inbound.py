"""Inbound SMS: store first (so a 200 means "kept"), then run the command in a job.

``receive`` is what the webhooks call. It inserts the inbox row
(``INSERT ... ON CONFLICT DO NOTHING`` on the unique provider and message id),
so a redelivery finds the row there and changes nothing, and after the commit
enqueues ``process_inbox(inbox_id)`` on the ``high`` queue. The webhook thus
answers in about the time of one INSERT, however big the command (a
treasurer's SMS for twenty members posts twenty receipts).

The job runs the command in one transaction that first claims the row
(``received`` -> ``done`` in one conditional UPDATE): a job run twice, or the
sweeper racing a slow worker, runs the command once. If the command crashes,
the row stays ``received`` and the sweeper hands it to a job again; after
:data:`MAX_ATTEMPTS` crashes it is ``failed`` for a person to look at.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

import metrics
from db import on_commit
from groups.phones import try_normalise
from messaging.dispatch import enqueue_inbox
from messaging.models import InboxMessage, InStatus, Priority

log = logging.getLogger("kassa.inbound")
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Inbound:
    """One SMS as any provider delivers it, in neutral terms."""

    provider: str
    message_id: str
    phone: str  # as the provider wrote it
    text: str
    to: str = ""


@dataclass(frozen=True)
class Stored:
    inbox_id: int | None  # None for a redelivery
    created: bool


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def store(session: Session, sms: Inbound) -> Stored:
    """Insert the inbox row unless this provider's message id is already there."""
    phone = try_normalise(sms.phone) or sms.phone.strip()[:32]
    values = dict(provider=sms.provider, provider_message_id=sms.message_id[:80], from_phone=phone,
                  to=sms.to[:32], text=sms.text, status=InStatus.RECEIVED, attempts=0, received_at=utcnow())
    dialect = session.get_bind().dialect.name
    maker = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if maker is None:  # any other database: the unique constraint still refuses the copy
        return _store_portable(session, values)
    stmt = maker(InboxMessage).values(**values).on_conflict_do_nothing(
        index_elements=["provider", "provider_message_id"]).returning(InboxMessage.id)
    new_id = session.execute(stmt).scalar()
    return Stored(new_id, new_id is not None)


def _store_portable(session: Session, values: dict) -> Stored:
    from sqlalchemy.exc import IntegrityError

    try:
        with session.begin_nested():
            new_id = session.execute(insert(InboxMessage).values(**values).returning(InboxMessage.id)).scalar()
    except IntegrityError:
        return Stored(None, False)
    return Stored(new_id, True)


def receive(services, sms: Inbound) -> Stored:
    """Store ``sms`` (committed before this returns); a new one gets its command run by a job."""
    with services.db.transaction() as session:
        stored = store(session, sms)
        if stored.created:
            on_commit(session, enqueue_inbox, stored.inbox_id)
    if stored.created:
        metrics.sms_received(sms.provider)
    return stored


def process_inbox(inbox_id: int) -> str | None:
    """RQ entry point (the sweeper's path): run the command of a stored SMS, once."""
    from worker import get_services

    return process(get_services(), inbox_id)


def process(services, inbox_id: int) -> str | None:
    """Run the command in one transaction; a crash leaves the row for the sweeper."""
    try:
        with services.db.transaction() as session:
            return run(session, services.config, inbox_id)
    except Exception as exc:
        log.exception("inbox %s: command failed", inbox_id)
        _note_failure(services, inbox_id, exc)
        return None


def run(session: Session, config, inbox_id: int) -> str | None:
    """Claim the row and handle its command; None when someone else already did."""
    from commands import Incoming, handle

    claimed = session.execute(
        update(InboxMessage).where(InboxMessage.id == inbox_id, InboxMessage.status == InStatus.RECEIVED)
        .values(status=InStatus.DONE, processed_at=utcnow(), attempts=InboxMessage.attempts + 1)).rowcount
    if not claimed:
        return None
    row = session.get(InboxMessage, inbox_id)
    handled = handle(session, config, Incoming(row.from_phone, row.text, f"{row.provider}:{row.provider_message_id}",
                                               utcnow()))
    row.command = handled.command
    from commands.rules import redact_if_secret

    row.text = redact_if_secret(row.text)  # a PIN as its last word (RULE ... 4071): never kept
    return handled.result


def _note_failure(services, inbox_id: int, exc: Exception) -> None:
    with services.db.transaction() as session:
        row = session.get(InboxMessage, inbox_id)
        if row is None or row.status != InStatus.RECEIVED:
            return
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:255]
        if row.attempts >= MAX_ATTEMPTS:
            from commands.rules import redact_if_secret

            row.status = InStatus.FAILED
            row.text = redact_if_secret(row.text)
            _apologise(session, row)


def _apologise(session: Session, row: InboxMessage) -> None:
    """Tell a member that her message was set aside, so she does not wait for a receipt.

    Unknown numbers get nothing (they are answered at most once a day elsewhere).
    """
    from groups.letters import member_letters
    from groups.service import find_member
    from i18n import translator
    from messaging.outbox import queue_sms

    member = find_member(session, row.from_phone)
    if member is None:
        return
    start = " ".join(row.text.split())
    start = start if len(start) <= 20 else start[:19] + "…"
    t = translator(member.language)
    # TRANSLATORS: SMS to a member whose message crashed Kassa 5 times; {start} is its first words.
    text = t.gettext("Sorry, your message \"{start}\" could not be handled. Send it again later or ask your "
                     "treasurer.", start=start)
    queue_sms(session, to=row.from_phone, text=text, language=t.lang, kind="reply", priority=Priority.REPLY,
              member_id=member.id, dedupe_key=f"inbox-failed:{row.id}", letters=member_letters(session, member))
