"""One meeting moved or cancelled, and the meeting calendar that follows from it.

A group meets by its rule (``groups.schedule``); a :class:`MeetingChange`
overrides one regular meeting, keyed by its regular date: cancelled, or moved
to another day and/or time (within ``MOVE_WINDOW`` of the regular day). The
reminder planner reads the changes of the groups it plans, so a cancelled
meeting gets no reminder and a moved one is reminded ahead of its new time.
Functions flush, never commit.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Time, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from db import Base
from groups.models import Group
from groups.schedule import (
    MOVE_WINDOW,
    Change,
    Changes,
    effective,
    local_instant,
    meeting_day_for,
    next_slot,
    rhythm_of,
)


class MeetingChange(Base):
    """The regular meeting of ``regular_on`` cancelled, or moved to ``new_on`` at ``new_time``."""

    __tablename__ = "meeting_changes"
    __table_args__ = (UniqueConstraint("group_id", "regular_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"))
    regular_on: Mapped[dt.date] = mapped_column(Date)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    new_on: Mapped[dt.date | None] = mapped_column(Date)
    new_time: Mapped[dt.time | None] = mapped_column(Time)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by each change of the same meeting
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    def as_change(self) -> Change:
        return Change(self.cancelled, self.new_on, self.new_time)


class ChangeError(ValueError):
    """Why a meeting cannot be moved or cancelled: ``code`` picks the sentence."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code, self.params = code, params


def changes_of(session: Session, group_ids: Iterable[int], now: dt.datetime) -> dict[int, dict[dt.date, Change]]:
    """The changes still relevant at ``now`` (regular day at most ``MOVE_WINDOW`` ago), per group."""
    ids = sorted(set(group_ids))
    if not ids:
        return {}
    since = now.date() - MOVE_WINDOW - dt.timedelta(days=1)
    found: dict[int, dict[dt.date, Change]] = {}
    for row in session.scalars(select(MeetingChange).where(
            MeetingChange.group_id.in_(ids), MeetingChange.regular_on >= since)):
        found.setdefault(row.group_id, {})[row.regular_on] = row.as_change()
    return found


def group_changes(session: Session, group: Group, now: dt.datetime) -> Changes:
    return changes_of(session, [group.id], now).get(group.id, {})


def next_meeting_of(session: Session, group: Group, now: dt.datetime) -> tuple[dt.date, dt.date, dt.time]:
    """The group's next meeting at ``now``: (regular date, actual day, actual time)."""
    rhythm = rhythm_of(group)
    changes = group_changes(session, group, now)
    slot = next_slot(rhythm, now, changes)
    when = effective(rhythm, slot, changes)
    assert when is not None
    return slot, when[0], when[1]


def _record(session: Session, group: Group, slot: dt.date, actor_id: int | None, **values: object) -> MeetingChange:
    row = session.scalar(select(MeetingChange).where(
        MeetingChange.group_id == group.id, MeetingChange.regular_on == slot))
    if row is None:
        row = MeetingChange(group_id=group.id, regular_on=slot, version=1)
        session.add(row)
    else:
        row.version = (row.version or 1) + 1
    row.actor_id = actor_id
    row.cancelled = bool(values.get("cancelled", False))
    row.new_on = values.get("new_on")  # type: ignore[assignment]
    row.new_time = values.get("new_time")  # type: ignore[assignment]
    reschedule(group)  # the planner plans the group afresh, changes included
    session.flush()
    return row


def move_meeting(session: Session, group: Group, new_on: dt.date, new_time: dt.time | None, *,
                 actor_id: int | None, now: dt.datetime) -> tuple[dt.date, dt.date, dt.time]:
    """Move the next meeting to ``new_on`` at ``new_time`` (default: its usual time).

    Returns (regular date, old actual day, old actual time) of the meeting moved.
    Refused when the new time has passed or is more than ``MOVE_WINDOW`` from the regular day.
    """
    rhythm = rhythm_of(group)
    slot, old_on, old_at = next_meeting_of(session, group, now)
    at = new_time or rhythm.at
    if local_instant(new_on, at, rhythm.tz) <= now:
        raise ChangeError("past")
    if abs(new_on - slot) > MOVE_WINDOW:
        raise ChangeError("too_far", days=MOVE_WINDOW.days)
    _record(session, group, slot, actor_id, new_on=new_on, new_time=at if at != rhythm.at else None)
    return slot, old_on, old_at


def cancel_meeting(session: Session, group: Group, on: dt.date | None, *, actor_id: int | None,
                   now: dt.datetime) -> tuple[dt.date, dt.date]:
    """Cancel the next meeting, or the one on ``on`` (its actual or regular day).

    Returns (regular date, actual day) of the meeting cancelled.
    """
    rhythm = rhythm_of(group)
    changes = dict(group_changes(session, group, now))
    if on is None:
        slot, day, _ = next_meeting_of(session, group, now)
        return _record(session, group, slot, actor_id, cancelled=True).regular_on, day
    for _ in range(60):  # the upcoming meetings, by their regular order, for a few months
        slot = next_slot(rhythm, now, changes)
        when = effective(rhythm, slot, changes)
        assert when is not None
        if on in (slot, when[0]):
            _record(session, group, slot, actor_id, cancelled=True)
            return slot, when[0]
        if slot > on + MOVE_WINDOW:
            break
        changes[slot] = Change(cancelled=True)  # look past it (not recorded)
    raise ChangeError("no_meeting", date=on)


def meeting_days(session: Session, group_ids: Iterable[int]) -> dict[int, Callable[[dt.date], dt.date]]:
    """Per group: a date -> the day of its first meeting on or after it, every moved or cancelled
    meeting counted (however long ago: a loan's past instalments keep their days)."""
    ids = sorted(set(group_ids))
    if not ids:
        return {}
    rows = session.execute(select(Group.id, Group.timezone, Group.meeting_weekday, Group.meeting_time,
                                  Group.meeting_every_weeks, Group.meeting_anchor, Group.reminder_days_before,
                                  Group.reminder_time).where(Group.id.in_(ids))).all()
    found: dict[int, dict[dt.date, Change]] = {}
    for row in session.scalars(select(MeetingChange).where(MeetingChange.group_id.in_(ids))):
        found.setdefault(row.group_id, {})[row.regular_on] = row.as_change()
    return {row.id: meeting_day_for(rhythm_of(row), found.get(row.id)) for row in rows}


def reschedule(group: Group) -> None:
    """Forget the group's plan; the reminder planner (``outreach.planner``) plans it
    afresh on its next run.

    Call after changing the meeting day, time, rhythm or reminder lead.
    """
    group.next_meeting_on = None
    group.next_reminder_at = None
