"""Next meeting: day, time and place, in her language and the group's timezone."""
from __future__ import annotations

import datetime as dt

from groups.changes import changes_of
from groups.schedule import Rhythm, effective, next_slot
from menus.engine import Ctx, Screen


def _next_meeting(ctx: Ctx) -> list[str]:
    """From the meeting rule kept in the session, and the group's moved or cancelled meeting."""
    t, who = ctx.t, ctx.state.who
    assert who is not None
    at = dt.time.fromisoformat(who.meeting_time)
    rhythm = Rhythm(who.timezone, who.meeting_weekday, at, who.meeting_every_weeks,
                    dt.date.fromisoformat(who.meeting_anchor) if who.meeting_anchor else None)
    changes = changes_of(ctx.db, [who.group_id], ctx.deps.now).get(who.group_id)
    slot = next_slot(rhythm, ctx.deps.now, changes)
    when = effective(rhythm, slot, changes)
    assert when is not None
    day, at = when
    lines = [t.gettext("Next meeting: {day}, {time}", day=t.date(day, "EEEE d MMMM"), time=t.time(at))]
    if changes and slot in changes:
        lines.append(t.gettext("(moved from {day})", day=t.date(slot, "d MMMM")))
    if who.meeting_place:
        lines.append(t.gettext("Place: {place}", place=who.meeting_place))
    return lines


SCREENS = [Screen("meeting", body=_next_meeting)]
