"""Writing to the outbox. The row is the promise to send; a job keeps it.

``queue_sms`` flushes a row in the caller's transaction and arranges, through
:func:`db.on_commit`, that the sending job is enqueued only after that
transaction commits. If Redis loses the job, the sweeper finds the row.

The rows one transaction writes go in one job per priority: a lone reply is a
``send_outbox`` job (RQ retries it), a treasurer's ``SAVE`` for 20 members (20
receipts and her reply) one ``send_many`` job, claimed, sent (several requests
in flight) and recorded as one batch, instead of 21 jobs of two transactions
each (bench/endtoend.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from db import on_commit
from messaging.models import OutboxMessage, Priority
from text.gsm7 import shape
from text.plain import Letters, in_letters


@dataclass(frozen=True)
class Variant:
    """One text as it will be sent: body, encoding and segment count."""

    text: str
    encoding: str
    segments: int


def variant(text: str, letters: Letters) -> Variant:
    """``text`` as it will be sent in ``letters`` (NFC, or plain letters), with its shape."""
    body = in_letters(text, letters)
    s = shape(body)
    return Variant(body, s.encoding, s.segments)


def queue_sms(session: Session, *, to: str, text: str, language: str, kind: str, letters: Letters,
              priority: int = Priority.NOTICE, member_id: int | None = None,
              group_id: int | None = None, dedupe_key: str | None = None) -> OutboxMessage:
    """Add one outbound SMS to the outbox (flushed, not committed).

    ``letters`` is required, so no text forgets the reader's style: a member's
    comes from ``groups.letters`` (``letters_for(member, group)``); a text to a
    coordinator or an unknown number says ``Letters.FULL``. ``dedupe_key``, when
    given, is unique in the database: the same key twice is refused there.
    """
    v = variant(text, letters)
    msg = OutboxMessage(to_phone=to, member_id=member_id, group_id=group_id, text=v.text,
                        language=language, encoding=v.encoding, segments=v.segments,
                        priority=int(priority), kind=kind, dedupe_key=dedupe_key)
    session.add(msg)
    session.flush()
    _send_after_commit(session, msg.id, int(priority))
    return msg


def _send_after_commit(session: Session, outbox_id: int, priority: int) -> None:
    """Add ``outbox_id`` to this transaction's one enqueue hook (registered with the first row)."""
    for fn, args in session.info.get("after_commit", []):
        if fn is _enqueue_after_commit:
            args[0].setdefault(priority, []).append(outbox_id)
            return
    on_commit(session, _enqueue_after_commit, {priority: [outbox_id]})


def _enqueue_after_commit(services: Any, by_priority: dict[int, list[int]]) -> None:
    from messaging.bulk import enqueue_sends
    from messaging.dispatch import enqueue_send

    for priority, ids in sorted(by_priority.items()):  # replies first
        if len(ids) == 1:
            enqueue_send(services, ids[0], priority)
        else:
            enqueue_sends(services, ids, priority)
