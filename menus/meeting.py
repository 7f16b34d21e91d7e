"""Next meeting: day, time and place, in her language and the group's timezone."""
from __future__ import annotations

import datetime as dt

from groups.schedule import Rhythm, next_meeting
from menus.engine import Ctx, Screen


def _next_meeting(ctx: Ctx) -> list[str]:
    """From the meeting rule kept in the session: no database read."""
    t, who = ctx.t, ctx.state.who
    assert who is not None
    at = dt.time.fromisoformat(who.meeting_time)
    rhythm = Rhythm(who.timezone, who.meeting_weekday, at, who.meeting_every_weeks,
                    dt.date.fromisoformat(who.meeting_anchor) if who.meeting_anchor else None)
    day = next_meeting(rhythm, ctx.deps.now)
    lines = [t.gettext("Next meeting: {date}", date=t.date(day)),
             # TRANSLATORS: the meeting's time: "08:00"; in Swahili "saa 2 asubuhi (08:00)".
             t.gettext("Time: {time}", time=t.time(at))]
    if who.meeting_place:
        lines.append(t.gettext("Place: {place}", place=who.meeting_place))
    return lines


SCREENS = [Screen("meeting", body=_next_meeting)]
