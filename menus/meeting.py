"""Next meeting: day, time and place, in her language and the group's timezone."""
from __future__ import annotations

from groups.service import next_meeting
from menus.engine import Ctx, Screen


def _next_meeting(ctx: Ctx) -> list[str]:
    t, group = ctx.t, ctx.group
    when = next_meeting(group, ctx.deps.now)
    lines = [t.gettext("Next meeting: {day}, {time}", day=t.date(when.date(), "EEEE d MMMM"),
                       time=t.time(when.time()))]
    if group.meeting_place:
        lines.append(t.gettext("Place: {place}", place=group.meeting_place))
    return lines


SCREENS = [Screen("meeting", body=_next_meeting)]
