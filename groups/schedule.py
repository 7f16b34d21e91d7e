"""When a group meets and when its members are reminded: pure date arithmetic.

Rules (all in the group's own timezone, so a daylight-saving change moves the
UTC instant, never the local time people read):

- A group meets on ``weekday`` (Monday = 0) at ``at`` local time, every
  ``every_weeks`` weeks. Fortnightly groups meet on the weeks of ``anchor``
  (any date of one of their meetings), counted in whole weeks from it.
- The reminder for the meeting on day D goes at ``remind_at`` local time on
  day D - ``days_before`` (default: 18:00 the evening before).
- The meeting a reminder is planned for is the first one that has not
  started yet; a reminder whose time has passed while that meeting is still
  ahead is due at once (a late reminder beats none), one for a meeting that
  has started is never sent.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True)
class Rhythm:
    """A group's meeting rhythm and reminder lead (plain values, no ORM)."""

    timezone: str
    weekday: int  # Monday = 0
    at: dt.time
    every_weeks: int = 1
    anchor: dt.date | None = None
    days_before: int = 1
    remind_at: dt.time = dt.time(18, 0)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def rhythm_of(row: Any) -> Rhythm:
    """The :class:`Rhythm` of a group, or of a row holding the same columns."""
    return Rhythm(row.timezone, row.meeting_weekday, row.meeting_time, row.meeting_every_weeks,
                  row.meeting_anchor, row.reminder_days_before, row.reminder_time)


@dataclass(frozen=True)
class Plan:
    """The next reminder: for the meeting on ``meeting_on`` (local date), due at ``remind_at`` (UTC)."""

    meeting_on: dt.date
    remind_at: dt.datetime


def local_instant(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """``day`` at ``at`` wall-clock time in ``tz``, as an aware UTC datetime.

    A wall time skipped by a DST jump resolves to the offset before the jump
    (zoneinfo's fold=0), so it is never lost.
    """
    return dt.datetime.combine(day, at, tz).astimezone(UTC)


def meeting_start(rhythm: Rhythm, day: dt.date) -> dt.datetime:
    return local_instant(day, rhythm.at, rhythm.tz)


def reminder_instant(rhythm: Rhythm, meeting_on: dt.date) -> dt.datetime:
    return local_instant(meeting_on - dt.timedelta(days=rhythm.days_before), rhythm.remind_at, rhythm.tz)


def meeting_on_or_after(rhythm: Rhythm, day: dt.date) -> dt.date:
    """The first meeting date on or after ``day``."""
    candidate = day + dt.timedelta(days=(rhythm.weekday - day.weekday()) % 7)
    if rhythm.every_weeks > 1 and rhythm.anchor is not None:
        anchor = rhythm.anchor + dt.timedelta(days=(rhythm.weekday - rhythm.anchor.weekday()) % 7)
        weeks = (candidate - anchor).days // 7
        candidate += dt.timedelta(weeks=(-weeks) % rhythm.every_weeks)
    return candidate


def next_meeting(rhythm: Rhythm, now: dt.datetime) -> dt.date:
    """The first meeting that has not started at ``now`` (aware)."""
    day = meeting_on_or_after(rhythm, now.astimezone(rhythm.tz).date())
    while meeting_start(rhythm, day) <= now:
        day = meeting_on_or_after(rhythm, day + dt.timedelta(days=1))
    return day


def plan_after(rhythm: Rhythm, now: dt.datetime, changes: Changes | None = None) -> Plan:
    """The reminder to plan at ``now``: for the next meeting not yet started.

    With ``changes`` (one meeting moved or cancelled), a cancelled meeting is
    skipped and a moved one is reminded ahead of its new day; ``meeting_on``
    stays the regular date (the key of the change).
    """
    if changes:
        slot = next_slot(rhythm, now, changes)
        return Plan(slot, reminder_instant(rhythm, effective(rhythm, slot, changes)[0]))  # type: ignore[index]
    meeting_on = next_meeting(rhythm, now)
    return Plan(meeting_on, reminder_instant(rhythm, meeting_on))


def plan_following(rhythm: Rhythm, meeting_on: dt.date, now: dt.datetime,
                   changes: Changes | None = None) -> Plan:
    """The plan after the reminder for ``meeting_on`` went (or was skipped).

    The next meeting strictly after ``meeting_on``, but never one that has
    already started at ``now`` (a planner that was down skips stale meetings).
    """
    start = effective_start(rhythm, meeting_on, changes) or meeting_start(rhythm, meeting_on)
    return plan_after(rhythm, max(start, now), changes)


# -- one meeting moved or cancelled ------------------------------------------------------------

#: How far from its regular day a meeting may be moved (and how far back the search looks).
MOVE_WINDOW = dt.timedelta(days=31)


@dataclass(frozen=True)
class Change:
    """One regular meeting cancelled, or moved to another day and/or time."""

    cancelled: bool = False
    new_on: dt.date | None = None
    new_time: dt.time | None = None


#: regular meeting date -> its change
Changes = Mapping[dt.date, Change]


def effective(rhythm: Rhythm, slot: dt.date, changes: Changes | None) -> tuple[dt.date, dt.time] | None:
    """When the meeting of regular date ``slot`` takes place: (day, time), or None if cancelled."""
    change = changes.get(slot) if changes else None
    if change is None:
        return slot, rhythm.at
    if change.cancelled:
        return None
    return change.new_on or slot, change.new_time or rhythm.at


def effective_start(rhythm: Rhythm, slot: dt.date, changes: Changes | None) -> dt.datetime | None:
    when = effective(rhythm, slot, changes)
    return None if when is None else local_instant(when[0], when[1], rhythm.tz)


def next_slot(rhythm: Rhythm, now: dt.datetime, changes: Changes | None) -> dt.date:
    """The regular date of the first meeting (by its actual start) that has not started at
    ``now`` and is not cancelled. A meeting moved later than the next regular one is
    still found: the search starts ``MOVE_WINDOW`` back and goes on until no later
    regular slot could start sooner than the best found."""
    if not changes:
        return next_meeting(rhythm, now)
    day = meeting_on_or_after(rhythm, now.astimezone(rhythm.tz).date() - MOVE_WINDOW)
    best: tuple[dt.datetime, dt.date] | None = None
    while best is None or meeting_start(rhythm, day) - MOVE_WINDOW <= best[0]:
        start = effective_start(rhythm, day, changes)
        if start is not None and start > now and (best is None or start < best[0]):
            best = (start, day)
        day = meeting_on_or_after(rhythm, day + dt.timedelta(days=1))
    return best[1]


def meeting_day_for(rhythm: Rhythm, changes: Changes | None = None) -> Callable[[dt.date], dt.date]:
    """A function: a date -> the day of the group's first meeting on or after it (a cancelled
    meeting passes to the next one, a moved one counts on its new day). Loan instalments
    fall on meeting days by it (``ledger.loans.schedule``)."""

    def meets(day: dt.date) -> dt.date:
        slot = meeting_on_or_after(rhythm, day)
        for _ in range(60):
            when = effective(rhythm, slot, changes)
            if when is not None:
                return when[0]
            slot = meeting_on_or_after(rhythm, slot + dt.timedelta(days=1))
        return slot

    return meets
