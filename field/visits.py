"""Field visits: logged by SMS (``VISIT <group> <note>``), USSD or the console; groups nobody visits are flagged.

A visit is idempotent on its key (the inbound SMS's provider and message id, or
the USSD session's step): the same message twice is one visit. A field worker
logs visits only for the groups she is assigned to.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from field.errors import FieldError
from field.models import Visit
from groups.models import Group, Status
from i18n import N_, Translator
from orgs.models import FieldWorker, FieldWorkerGroup

NOTE_LENGTH = 160

#: The set notes a field worker may pick on USSD instead of typing (code -> msgid; the code is stored).
SET_NOTES = {
    "meeting": N_("Attended the meeting"),
    "books": N_("Checked the books"),
    "training": N_("Gave a training"),
    "problem": N_("Problem: please call me"),
}


def assigned(session: Session, worker: FieldWorker, group: Group) -> bool:
    return session.scalar(select(FieldWorkerGroup.group_id).where(
        FieldWorkerGroup.field_worker_id == worker.id, FieldWorkerGroup.group_id == group.id)) is not None


def find_group(session: Session, code: str) -> Group | None:
    return session.scalar(select(Group).where(Group.code == (code or "").strip().upper()))


def log_visit(session: Session, worker: FieldWorker, group: Group, note: str, *, on: dt.date, channel: str,
              key: str) -> tuple[Visit, bool]:
    """Record her visit (flushed): (the visit, True when new). The same key returns the first visit."""
    done = session.scalar(select(Visit).where(Visit.key == key))
    if done is not None:
        return done, False
    if group.status != Status.ACTIVE or not assigned(session, worker, group):
        raise FieldError("not_assigned", N_("Group {code} is not one of your groups."), code=group.code)
    visit = Visit(field_worker_id=worker.id, group_id=group.id, visited_on=on,
                  note=" ".join((note or "").split())[:NOTE_LENGTH], channel=channel, key=key)
    try:
        with session.begin_nested():
            session.add(visit)
            session.flush()
    except IntegrityError:  # the same key, committed by a concurrent run
        return session.scalar(select(Visit).where(Visit.key == key)), False  # type: ignore[return-value]
    return visit, True


def last_visits(session: Session, group_ids: list[int] | None = None) -> dict[int, dt.date]:
    """Each group's latest visit day."""
    q = select(Visit.group_id, func.max(Visit.visited_on)).group_by(Visit.group_id)
    if group_ids is not None:
        if not group_ids:
            return {}
        q = q.where(Visit.group_id.in_(group_ids))
    return {gid: day for gid, day in session.execute(q)}


@dataclass(frozen=True)
class Unvisited:
    group: Group
    last: dt.date | None  # None: never visited


def since_day(today: dt.date, weeks: int) -> dt.date:
    return today - dt.timedelta(weeks=weeks)


def _created_on(group: Group) -> dt.date:
    created = group.created_at
    return created.date() if created is not None else dt.date.min


def flagged(group: Group, last: dt.date | None, today: dt.date, weeks: int) -> bool:
    """Nobody has visited for ``weeks`` (a group younger than that is not flagged for never being visited)."""
    if weeks <= 0:
        return False
    since = since_day(today, weeks)
    return (last or _created_on(group)) <= since


def _unvisited_where(today: dt.date, weeks: int) -> ColumnElement[bool]:
    """Active groups formed on or before the cut-off day with no visit after it (one indexed anti-join)."""
    since = since_day(today, weeks)
    formed_by = dt.datetime.combine(since + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    recent = select(Visit.group_id).where(Visit.visited_on > since)
    return (Group.status == Status.ACTIVE) & (Group.created_at < formed_by) & Group.id.not_in(recent)


def count_unvisited(session: Session, today: dt.date, weeks: int,
                    where: ColumnElement[bool] | None = None) -> int:
    """How many groups (within ``where``) nobody has visited in ``weeks`` weeks (0 when weeks is 0)."""
    if weeks <= 0:
        return 0
    return int(session.scalar(select(func.count()).select_from(Group).where(
        _unvisited_where(today, weeks), where if where is not None else true())) or 0)


def unvisited(session: Session, today: dt.date, weeks: int, where: ColumnElement[bool] | None = None,
              limit: int = 500) -> list[Unvisited]:
    """Active groups (within ``where``) nobody has visited in ``weeks`` weeks, longest first."""
    if weeks <= 0:
        return []
    last_day = (select(Visit.group_id, func.max(Visit.visited_on).label("last"))
                .group_by(Visit.group_id).subquery())
    rows = session.execute(
        select(Group, last_day.c.last).outerjoin(last_day, last_day.c.group_id == Group.id)
        .where(_unvisited_where(today, weeks), where if where is not None else true())
        .order_by(last_day.c.last.is_not(None), last_day.c.last, Group.code).limit(limit)).all()
    return [Unvisited(g, last) for g, last in rows]


def visits_of(session: Session, *, group_id: int | None = None, worker_id: int | None = None,
              limit: int = 100) -> list[tuple[Visit, str | None, str]]:
    """(visit, the worker's name, the group's code), newest first."""
    q = (select(Visit, FieldWorker.name, Group.code).join(Group, Group.id == Visit.group_id)
         .outerjoin(FieldWorker, FieldWorker.id == Visit.field_worker_id))
    if group_id is not None:
        q = q.where(Visit.group_id == group_id)
    if worker_id is not None:
        q = q.where(Visit.field_worker_id == worker_id)
    return [(v, name, code) for v, name, code in
            session.execute(q.order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(limit))]


def note_text(t: Translator, note: str) -> str:
    """A stored note as the reader reads it (a set note's code in her words)."""
    return t.gettext(SET_NOTES[note]) if note in SET_NOTES else note
