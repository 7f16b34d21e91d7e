"""A broadcast's fan-out: its recipients expanded into outbox rows, in batches, resumable.

:mod:`outreach.broadcast` makes the broadcast (target, draft, texts, preview,
price) and starts it (``confirm``: status ``sending``); from there this module
writes its messages. It reads a broadcast row and its fixed texts and never
imports :mod:`outreach.broadcast`, which counts its recipients with the same
definitions (:func:`target_filter`, :func:`reachable`, :func:`member_language`,
:func:`recipient_plain`), so the preview counts exactly whom the fan-out writes.

Fan-out walks the target groups in id order, a batch of groups per
transaction: an INSERT ... SELECT writes the outbox rows of their members
(``dedupe_key`` ``bc:<broadcast>:<member>``, unique, conflicts skipped, so a
member of two target groups gets it once) and the same transaction moves
``cursor`` to the last group id of the batch. A worker killed at any point
leaves either the whole batch and its cursor or neither, so the next run
resumes with no duplicate and no gap. On PostgreSQL ``run_fan_out`` writes
two batches at once on two connections and moves the cursor once both have
committed; a kill in between leaves rows past the cursor, and the resumed run
writes those batches again with their existing keys skipped. Members who sent
STOP or left are skipped when their batch is written. Each batch costs what its groups hold,
whatever the size of the rest.
"""
from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from db import on_commit
from groups.letters import plain_sql
from groups.models import Group, Member, Membership, Status
from i18n import LANGUAGES
from messaging.bulk import insert_outbox_from_select, no_commit_wait, one_of, send_after_commit
from messaging.models import OutboxMessage, OutStatus, Priority
from outreach.models import Broadcast, BroadcastGroup, BroadcastStatus, BroadcastText

if TYPE_CHECKING:
    from services import Services

FANOUT_BATCH = 500  # groups per transaction (15-25 members each: keeps the index plan)
FANOUT_LANES = 2  # parts of a batch written at once on PostgreSQL (the machine's 2 cores)
KIND = "broadcast"
UTC = dt.UTC


# -- who receives it (the preview counts with the same definitions) ------------------------

def target_filter(b: Broadcast) -> ColumnElement[bool]:
    """The target groups of ``b``, as a condition on ``Group``."""
    chosen: ColumnElement[bool]
    if b.all_groups:
        chosen = true()
    else:
        conditions = [Group.id.in_(select(BroadcastGroup.group_id).where(BroadcastGroup.broadcast_id == b.id))]
        if b.regions:
            conditions.append(Group.region.in_(list(b.regions)))
        chosen = or_(*conditions)
    if b.project_ids:
        from orgs.models import ProjectGroup

        chosen = and_(chosen, Group.id.in_(select(ProjectGroup.group_id)
                                           .where(ProjectGroup.project_id.in_(list(b.project_ids)))))
    return chosen


def reachable() -> ColumnElement[bool]:
    """Members a broadcast may reach: active, and not opted out (STOP)."""
    return and_(Member.status == Status.ACTIVE, Member.opted_out.is_(False))


def member_language() -> ColumnElement[str]:
    """The language of the text a member gets: hers, or English when Kassa has no text in it."""
    return case((Member.language.in_(list(LANGUAGES)), Member.language), else_=literal("en"))


def recipient_plain(all_plain: bool, group_choice: Any) -> ColumnElement[bool]:
    """Whether a member gets the plain text: everyone when the broadcast says so, else the one
    rule (``groups.letters``) with ``group_choice`` standing for her group's setting."""
    return true() if all_plain else plain_sql(Member.plain_letters, group_choice)


# -- writing the outbox rows -------------------------------------------------------------

def enqueue_fan_out(services: Services, broadcast_id: int, attempt: int = 0) -> None:
    """Enqueue the fan-out job (deterministic id per attempt, so a duplicate enqueue is harmless)."""
    services.queue("default").enqueue("jobs.outreach.fan_out", broadcast_id,
                                      job_id=services.job_id(f"fanout-{broadcast_id}-{attempt}"), job_timeout="2h")


@dataclass(frozen=True)
class Batch:
    written: int  # outbox rows this batch wrote
    cursor: int  # last group id done
    done: bool
    outbox_ids: list[int] = field(default_factory=list, repr=False)


def fan_out_batch(session: Session, broadcast_id: int, *, batch: int = FANOUT_BATCH,
                  now: dt.datetime | None = None) -> Batch:
    """Write the outbox rows for the members of the next ``batch`` target groups; move the cursor past them.

    The broadcast row is locked (PostgreSQL) so two workers take turns; either
    way the unique dedupe keys make a repeated batch write nothing.
    """
    now = now or dt.datetime.now(UTC)
    b = session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())
    if b is None or b.status != BroadcastStatus.SENDING:
        return Batch(0, b.cursor if b else 0, True)
    groups = _next_groups(session, b, batch)
    if not groups:
        b.status, b.finished_at, b.updated_at = BroadcastStatus.DONE, now, now
        session.flush()
        return Batch(0, b.cursor, True)
    ids = _write_groups(session, b.id, b.plain, groups)  # with its cursor, below: together or not at all
    b.cursor, b.written, b.updated_at = groups[-1].id, b.written + len(ids), now
    session.flush()
    return Batch(len(ids), groups[-1].id, False, ids)


def _next_groups(session: Session, b: Broadcast, limit: int) -> list[Any]:
    """The next ``limit`` target groups after the cursor: ``(id, plain_letters)`` rows."""
    return list(session.execute(
        select(Group.id, Group.plain_letters).where(Group.status == Status.ACTIVE, target_filter(b),
                                                    Group.id > b.cursor)
        .order_by(Group.id).limit(limit)).all())


def _write_groups(session: Session, broadcast_id: int, plain: bool, groups: list[Any]) -> list[int]:
    """Outbox rows for the members of ``groups``; the new ids, sent after the commit."""
    no_commit_wait(session)  # a lost batch is written again: its cursor had not moved either
    ids = insert_outbox_from_select(session, _rows(session, broadcast_id, plain, [g.id for g in groups],
                                                   [g.id for g in groups if g.plain_letters]))
    send_after_commit(session, ids, Priority.BULK)
    return ids


def _rows(session: Session, broadcast_id: int, all_plain: bool, group_ids: list[int],
          plain_groups: list[int]) -> Select[Any]:
    """The outbox rows (OUTBOX_COLUMNS) for the reachable members of ``group_ids``.

    The recipients are gathered first, each with her variant's language and
    letter style (a group's style from ``plain_groups``, the ids of those
    that want plain letters), in a MATERIALIZED CTE: the database walks only
    memberships and members, then matches the few texts by a hash join.
    """
    t = BroadcastText
    narrowing = _narrowing(session, broadcast_id)
    group_id = Membership.group_id.expression
    plain = recipient_plain(all_plain, one_of(session, group_id, plain_groups))
    r = (select(Member.phone, Member.id, Membership.group_id, Member.language,
                member_language().label("variant"), plain.label("plain"))
         .select_from(Membership).join(Member, Member.id == Membership.member_id)
         .where(one_of(session, group_id, group_ids), Membership.status == Status.ACTIVE,
                reachable(), *narrowing)
         .cte("r").prefix_with("MATERIALIZED", dialect="postgresql"))
    return (select(r.c.phone, r.c.id, r.c.group_id, t.text, r.c.language, t.encoding, t.segments,
                   literal(int(Priority.BULK)), literal(KIND), literal(f"bc:{broadcast_id}:") + cast(r.c.id, String),
                   literal(OutStatus.PENDING.value), literal(0))
            .select_from(r)
            .join(t, and_(t.broadcast_id == broadcast_id, t.language == r.c.variant, t.plain == r.c.plain)))


def _narrowing(session: Session, broadcast_id: int) -> list[ColumnElement[bool]]:
    """The language and role narrowing of a broadcast, as WHERE conditions on its members."""
    languages, roles = session.execute(select(Broadcast.languages, Broadcast.roles)
                                       .where(Broadcast.id == broadcast_id)).one()
    conditions: list[ColumnElement[bool]] = []
    if languages:
        conditions.append(member_language().in_(list(languages)))
    if roles:
        conditions.append(Membership.role.in_(list(roles)))
    return conditions


@dataclass
class FanOutSummary:
    batches: int = 0
    written: int = 0
    cursor: int = 0
    done: bool = False


def run_fan_out(services: Services, broadcast_id: int, *, batch: int = FANOUT_BATCH, pause: float = 0.0,
                progress: Callable[[Batch], None] | None = None, lanes: int | None = None) -> FanOutSummary:
    """Fan out until done, resuming from the stored cursor.

    On SQLite (one writer at a time) each batch of ``batch`` groups is one
    transaction that also moves the cursor. On PostgreSQL ``lanes`` batches are
    written at once, each in its own transaction on its own connection (the
    database's work spreads over the cores), and the cursor moves past them
    only after every one has committed. A kill between the two leaves rows
    past the cursor; the run that resumes writes those batches again and the
    unique dedupe keys skip what is there: no duplicate, no gap.

    ``pause`` sleeps after writing each part, before its commit: it paces a
    broadcast and lets a test kill the process with a batch in flight.
    """
    if lanes is None:
        lanes = FANOUT_LANES if services.db.engine.dialect.name == "postgresql" else 1
    if lanes <= 1:
        return _run_serial(services, broadcast_id, batch, pause, progress)
    summary = FanOutSummary()
    with ThreadPoolExecutor(lanes, thread_name_prefix="fanout") as pool:
        while True:
            with services.db.transaction() as session:
                b = session.get(Broadcast, broadcast_id)
                if b is None or b.status != BroadcastStatus.SENDING:
                    summary.cursor, summary.done = (b.cursor if b else 0), True
                    return summary
                groups = _next_groups(session, b, batch * lanes)
                plain_b, cursor = b.plain, b.cursor
            if not groups:
                _finish(services, broadcast_id)
                summary.cursor, summary.done = cursor, True
                return summary
            parts = [groups[i:i + batch] for i in range(0, len(groups), batch)]  # at most ``lanes``
            written = sum(pool.map(functools.partial(_write_part, services, broadcast_id, plain_b, pause=pause), parts))
            last = groups[-1].id
            with services.db.transaction() as session:
                locked = session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())
                if locked is not None and locked.cursor < last:
                    locked.cursor, locked.written, locked.updated_at = last, locked.written + written, dt.datetime.now(UTC)
            step = Batch(written, last, False)
            summary.batches += 1
            summary.written += written
            summary.cursor = last
            if progress:
                progress(step)


def _write_part(services: Services, broadcast_id: int, plain: bool, groups: list[Any], *, pause: float) -> int:
    """The outbox rows of ``groups``' members, in a transaction of their own; how many were new."""
    with services.db.transaction() as session:
        ids = _write_groups(session, broadcast_id, plain, groups)
        if pause:
            time.sleep(pause)
    return len(ids)


def _finish(services: Services, broadcast_id: int) -> None:
    """Mark the broadcast done; ``written`` recounted (a resumed batch skips rows it had written)."""
    lo, hi = dedupe_range(broadcast_id)
    with services.db.transaction() as session:
        b = session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())
        if b is None or b.status != BroadcastStatus.SENDING:
            return
        now = dt.datetime.now(UTC)
        b.written = session.scalar(select(func.count()).select_from(OutboxMessage)
                                   .where(OutboxMessage.dedupe_key >= lo, OutboxMessage.dedupe_key < hi)) or 0
        b.status, b.finished_at, b.updated_at = BroadcastStatus.DONE, now, now


def _run_serial(services: Services, broadcast_id: int, batch: int, pause: float,
                progress: Callable[[Batch], None] | None) -> FanOutSummary:
    summary = FanOutSummary()
    while True:
        with services.db.transaction() as session:
            step = fan_out_batch(session, broadcast_id, batch=batch)
            if pause and not step.done:
                time.sleep(pause)
        summary.cursor, summary.done = step.cursor, step.done
        if step.done:
            return summary
        summary.batches += 1
        summary.written += step.written
        if progress:
            progress(step)


# -- taking it up again ------------------------------------------------------------------

def dedupe_range(broadcast_id: int) -> tuple[str, str]:
    """The key range holding ``bc:<id>:<member>`` (the unique index answers it)."""
    return f"bc:{broadcast_id}:", f"bc:{broadcast_id};"


def resume(session: Session, b: Broadcast, now: dt.datetime) -> int:
    """Take up a broadcast that stopped: its fan-out again, and its failed messages once more.

    The fan-out resumes from its cursor (no duplicate, no gap); failed rows go back to
    pending and are sent after the commit. Returns how many failed rows were retried.
    """
    if b.status == BroadcastStatus.SENDING:
        b.updated_at = now
        on_commit(session, enqueue_fan_out, b.id, int(now.timestamp()))
    lo, hi = dedupe_range(b.id)
    failed = list(session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.dedupe_key >= lo, OutboxMessage.dedupe_key < hi,
        OutboxMessage.status == OutStatus.FAILED)))
    if failed:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(failed))
                        .values(status=OutStatus.PENDING, attempts=0, retry_at=None, last_error=None))
        send_after_commit(session, failed, Priority.BULK)
    session.flush()
    return len(failed)


def stalled_broadcasts(session: Session, now: dt.datetime, idle: dt.timedelta = dt.timedelta(minutes=2)
                       ) -> Sequence[int]:
    """Broadcasts still sending whose last batch is older than ``idle`` (their worker died)."""
    since = now - idle
    return list(session.scalars(
        select(Broadcast.id).where(Broadcast.status == BroadcastStatus.SENDING,
                                   or_(Broadcast.updated_at.is_(None), Broadcast.updated_at < since),
                                   or_(Broadcast.started_at.is_(None), Broadcast.started_at < since))))
