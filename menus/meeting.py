"""Next meeting: day, time and place, in her language and the group's timezone."""
from __future__ import annotations

import datetime as dt

from groups.models import Group
from groups.service import next_meeting
from menus.engine import Ctx, Screen


def _next_meeting(ctx: Ctx) -> list[str]:
    """From the meeting rule kept in the session: no database read."""
    t, who = ctx.t, ctx.state.who
    assert who is not None
    rule = Group(timezone=who.timezone, meeting_weekday=who.meeting_weekday,
                 meeting_time=dt.time.fromisoformat(who.meeting_time))
    when = next_meeting(rule, ctx.deps.now)
    lines = [t.gettext("Next meeting: {day}, {time}", day=t.date(when.date(), "EEEE d MMMM"),
                       time=t.time(when.time()))]
    if who.meeting_place:
        lines.append(t.gettext("Place: {place}", place=who.meeting_place))
    return lines


SCREENS = [Screen("meeting", body=_next_meeting)]
