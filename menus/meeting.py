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
    lines = [t.gettext("Next meeting: {date}", date=t.date(day)),
             # TRANSLATORS: the meeting's time: "08:00"; in Swahili "saa 2 asubuhi (08:00)".
             t.gettext("Time: {time}", time=t.time(at))]
    if changes and slot in changes:
        # TRANSLATORS: under "Next meeting": the date it was planned for before the chair moved it.
        lines.append(t.gettext("Moved from: {date}", date=t.date(slot)))
    if who.meeting_place:
        lines.append(t.gettext("Place: {place}", place=who.meeting_place))
    return lines


SCREENS = [Screen("meeting", body=_next_meeting)]
