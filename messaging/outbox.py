"""Writing to the outbox. The row is the promise to send; a job keeps it.

``queue_sms`` flushes a row in the caller's transaction and arranges, through
:func:`db.on_commit`, that the sending job is enqueued only after that
transaction commits. If Redis loses the job, the sweeper finds the row.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from db import on_commit
from i18n.plain import plain_letters
from messaging.encoding import normalise, shape
from messaging.models import OutboxMessage, Priority


def queue_sms(session: Session, *, to: str, text: str, language: str, kind: str,
              priority: int = Priority.NOTICE, member_id: int | None = None,
              group_id: int | None = None, dedupe_key: str | None = None,
              plain: bool = False) -> OutboxMessage:
    """Add one outbound SMS to the outbox (flushed, not committed).

    ``plain`` sends it in plain GSM-7 letters (cheaper). ``dedupe_key``, when
    given, is unique in the database: the same key twice is refused there.
    """
    body = plain_letters(text) if plain else normalise(text)
    s = shape(body)
    msg = OutboxMessage(to_phone=to, member_id=member_id, group_id=group_id, text=body,
                        language=language, encoding=s.encoding, segments=s.segments,
                        priority=int(priority), kind=kind, dedupe_key=dedupe_key)
    session.add(msg)
    session.flush()
    on_commit(session, _enqueue_after_commit, msg.id, int(priority))
    return msg


def _enqueue_after_commit(services, outbox_id: int, priority: int) -> None:
    from messaging.dispatch import enqueue_send

    enqueue_send(services, outbox_id, priority)
