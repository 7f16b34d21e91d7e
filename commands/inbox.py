"""Running the command of a stored inbound SMS, once (the body of ``jobs.sms.process_inbox``).

:mod:`messaging.inbound` stores the SMS and enqueues the job; here the job
claims the row (``received`` -> ``done`` in one conditional UPDATE, so a job
run twice, or the sweeper racing a slow worker, runs the command once) and
handles its command in the same transaction. If the command crashes, the row
stays ``received`` for the sweeper; after
:data:`messaging.inbound.MAX_ATTEMPTS` crashes it is ``failed`` for a person
to look at, and the member is told.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from commands.handle import Incoming, handle
from commands.rules import redact_if_secret
from groups.letters import member_letters
from groups.service import find_member
from i18n import translator
from messaging.inbound import MAX_ATTEMPTS
from messaging.models import InboxMessage, InStatus, Priority
from messaging.outbox import queue_sms

if TYPE_CHECKING:
    from config import Config
    from services import Services

log = logging.getLogger("kassa.inbound")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def process(services: Services, inbox_id: int) -> str | None:
    """Run the command in one transaction; a crash leaves the row for the sweeper."""
    try:
        with services.db.transaction() as session:
            return run(session, services.config, inbox_id)
    except Exception as exc:
        log.exception("inbox %s: command failed", inbox_id)
        _note_failure(services, inbox_id, exc)
        return None


def run(session: Session, config: Config, inbox_id: int) -> str | None:
    """Claim the row and handle its command; None when someone else already did."""
    claimed = cast(CursorResult[Any], session.execute(
        update(InboxMessage).where(InboxMessage.id == inbox_id, InboxMessage.status == InStatus.RECEIVED)
        .values(status=InStatus.DONE, processed_at=utcnow(), attempts=InboxMessage.attempts + 1))).rowcount
    if not claimed:
        return None
    row = session.get_one(InboxMessage, inbox_id)
    handled = handle(session, config, Incoming(row.from_phone, row.text, f"{row.provider}:{row.provider_message_id}",
                                               utcnow()))
    row.command = handled.command
    row.text = redact_if_secret(row.text)  # a PIN as its last word (RULE ... 4071): never kept
    return handled.result


def _note_failure(services: Services, inbox_id: int, exc: Exception) -> None:
    with services.db.transaction() as session:
        row = session.get(InboxMessage, inbox_id)
        if row is None or row.status != InStatus.RECEIVED:
            return
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:255]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = InStatus.FAILED
            row.text = redact_if_secret(row.text)
            _apologise(session, row)


def _apologise(session: Session, row: InboxMessage) -> None:
    """Tell a member that her message was set aside, so she does not wait for a receipt.

    Unknown numbers get nothing (they are answered at most once a day elsewhere).
    """
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
