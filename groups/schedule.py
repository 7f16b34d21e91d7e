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


def plan_after(rhythm: Rhythm, now: dt.datetime) -> Plan:
    """The reminder to plan at ``now``: for the next meeting not yet started."""
    meeting_on = next_meeting(rhythm, now)
    return Plan(meeting_on, reminder_instant(rhythm, meeting_on))


def plan_following(rhythm: Rhythm, meeting_on: dt.date, now: dt.datetime) -> Plan:
    """The plan after the reminder for ``meeting_on`` went (or was skipped).

    The next meeting strictly after ``meeting_on``, but never one that has
    already started at ``now`` (a planner that was down skips stale meetings).
    """
    after = max(meeting_start(rhythm, meeting_on), now)
    return plan_after(rhythm, after)
