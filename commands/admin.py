"""The group's own administration by SMS: one meeting moved or cancelled.

``MOVE 2026-12-08 14:00`` moves the next meeting (the time may be left out:
the usual time); ``CANCEL`` cancels the next meeting, ``CANCEL 2026-12-08``
the one on that day (``CANCEL L17`` cancels an approved loan: see
``commands.loans_admin``). The chair sends them; every member is told, and the
reminders follow (``groups.changes``, ``outreach.planner``).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from sqlalchemy import select

from commands.context import CommandError, Context, Notice, Outcome
from commands.parser import Grammar, Parsed
from commands.registry import Command, pgettext, register
from groups.changes import ChangeError, cancel_meeting, move_meeting, next_meeting_of
from groups.models import Group, Member, Membership, Status
from i18n import N_, Translator, translator

CHAIR = frozenset({"chair"})

_ISO = re.compile(r"\A(\d{4})-(\d{1,2})-(\d{1,2})\Z")
_DMY = re.compile(r"\A(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?\Z")
_TIME = re.compile(r"\A(\d{1,2})(?:[:.hH](\d{2}))?\Z")


def parse_day(word: str, today: dt.date) -> dt.date | None:
    """``2026-12-08``, ``8.12.2026``, ``8/12/26`` or ``8.12`` (the next such day) -> a date."""
    try:
        m = _ISO.match(word)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        m = _DMY.match(word)
        if m:
            day, month = int(m[1]), int(m[2])
            if m[3]:
                year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
                return dt.date(year, month, day)
            found = dt.date(today.year, month, day)
            return found if found >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None
    return None


def parse_time(word: str) -> dt.time | None:
    m = _TIME.match(word)
    if m is None:
        return None
    hour, minute = int(m[1]), int(m[2] or 0)
    return dt.time(hour, minute) if hour < 24 and minute < 60 else None


def tell_members(ctx: Context, group: Group, render: Callable[[Translator], str],
                 kind: str = "meeting_change") -> list[Notice]:
    """One notice to every active member of ``group`` (not the sender: her reply says it)."""
    members = ctx.session.scalars(select(Member).join(Membership, Membership.member_id == Member.id).where(
        Membership.group_id == group.id, Membership.status == Status.ACTIVE, Member.status == Status.ACTIVE)
        .order_by(Membership.number))
    sender = ctx.sender.member.id if ctx.sender.member is not None else None
    return [Notice(m, group, render(translator(m.language)), kind=kind) for m in members if m.id != sender]


def _change_error(ctx: Context, command: str, exc: ChangeError) -> CommandError:
    t = ctx.t
    if exc.code == "past":
        return CommandError(t.gettext("{command}: that day and time have already passed.", command=command))
    if exc.code == "too_far":
        return CommandError(t.gettext("{command}: a meeting can move at most {days} days from its usual day.",
                                      command=command, days=exc.params["days"]))
    return CommandError(t.gettext("{command}: there is no meeting on {date}.", command=command,
                                  date=t.date(exc.params["date"])))  # type: ignore[arg-type]


def run_move(ctx: Context, parsed: Parsed) -> Outcome:
    group, t = ctx.group, ctx.t
    assert group is not None
    day = parse_day(parsed.word or "", ctx.today())
    words = parsed.text.split()
    at = parse_time(words[0]) if words else None
    if day is None or (words and at is None) or len(words) > 1:
        # TRANSLATORS: keep the example as typed: MOVE, a date as year-month-day, a time as hours:minutes.
        raise CommandError(t.gettext("MOVE: write the new day and time, e.g. MOVE 2026-12-08 14:00."))
    try:
        _slot, old_on, old_at = move_meeting(ctx.session, group, day, at, actor_id=ctx.actor.id if ctx.actor else None,
                                             now=ctx.now)
    except ChangeError as exc:
        raise _change_error(ctx, "MOVE", exc) from None
    new_at = at or group.meeting_time

    def text(tt: Translator) -> str:
        # TRANSLATORS: SMS to every member; {old} and {day} are dates, {time} a time of day.
        return tt.gettext("{group}: the meeting of {old} is moved to {day} at {time}.", group=group.name,
                          old=tt.date(old_on), day=tt.date(day), time=tt.time(new_at))

    reply = t.gettext("MOVE: the meeting of {old} is moved to {day} at {time}. Every member gets an SMS.",
                      old=t.date(old_on), day=t.date(day), time=t.time(new_at))
    return Outcome(reply, tell_members(ctx, group, text))


def run_cancel(ctx: Context, parsed: Parsed) -> Outcome:
    """CANCEL [day]: a meeting; CANCEL L17 [reason]: an approved loan (commands.loans_admin)."""
    group, t = ctx.group, ctx.t
    assert group is not None
    words = parsed.text.split(None, 1)
    if words and re.fullmatch(r"[Ll]-?\d{1,12}", words[0]):
        from commands.loans_admin import cancel_loan

        return cancel_loan(ctx, words[0].replace("-", "").upper(), words[1] if len(words) > 1 else "")
    on = None
    if words:
        on = parse_day(words[0], ctx.today())
        if on is None or len(words) > 1:
            raise CommandError(t.gettext("CANCEL: write nothing for the next meeting, or its day, "
                                         "e.g. CANCEL 2026-12-08."))
    try:
        _slot, day = cancel_meeting(ctx.session, group, on, actor_id=ctx.actor.id if ctx.actor else None,
                                    now=ctx.now)
    except ChangeError as exc:
        raise _change_error(ctx, "CANCEL", exc) from None
    _next_slot, next_on, next_at = next_meeting_of(ctx.session, group, ctx.now)

    def text(tt: Translator) -> str:
        return tt.gettext("{group}: the meeting of {day} is cancelled. Next meeting: {next} at {time}.",
                          group=group.name, day=tt.date(day), next=tt.date(next_on), time=tt.time(next_at))

    reply = t.gettext("CANCEL: the meeting of {day} is cancelled. Every member gets an SMS. "
                      "Next meeting: {next} at {time}.", day=t.date(day), next=t.date(next_on),
                      time=t.time(next_at))
    return Outcome(reply, tell_members(ctx, group, text))


register(Command(pgettext("sms keyword", "MOVE"), Grammar.WORD_TEXT, CHAIR, run_move,
                 N_("MOVE 2026-12-08 14:00 - move the next meeting")))
register(Command(pgettext("sms keyword", "CANCEL"), Grammar.NONE, CHAIR, run_cancel,
                 N_("CANCEL [2026-12-08] - cancel the next meeting")))
