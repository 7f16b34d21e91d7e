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
from typing import TYPE_CHECKING

from sqlalchemy import select

from commands.context import CommandError, Context, Notice, Outcome
from commands.parser import Grammar, Parsed
from commands.registry import COORDINATOR, Command, pgettext, register
from db import on_commit
from groups.changes import ChangeError, cancel_meeting, move_meeting, next_meeting_of
from groups.models import Group, Member, Membership, Role, Status
from groups.service import coordinators_of
from i18n import N_, Translator, translator

if TYPE_CHECKING:
    from services import Services

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
    # TRANSLATORS: {date} is the day the chair typed (a label: never inside the sentence).
    return CommandError(t.gettext("{command}: there is no meeting on that day. Date: {date}.", command=command,
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
        # TRANSLATORS: SMS to every member: one meeting moved. Labels, not a sentence: {old} is the date it
        # was planned for, {day} its new date (e.g. "Sunday 20" or "20.12"), {time} a time of day.
        return tt.gettext("{group}: meeting moved. Old date: {old}. New date: {day}, {time}.", group=group.name,
                          old=tt.sms_date(old_on), day=tt.sms_date(day), time=tt.time(new_at))

    # TRANSLATORS: the chair's reply to MOVE; labels as in the members' SMS "meeting moved. Old date: ...".
    reply = t.gettext("MOVE: meeting moved. Old date: {old}. New date: {day}, {time}. Every member gets an SMS.",
                      old=t.sms_date(old_on), day=t.sms_date(day), time=t.time(new_at))
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
        # TRANSLATORS: SMS to every member: one meeting cancelled. Labels, not a sentence: {day} is the
        # cancelled meeting's date, {next} the next meeting's (e.g. "Sunday 20" or "20.12"), {time} a time.
        return tt.gettext("{group}: meeting cancelled. Date: {day}. Next meeting: {next}, {time}.",
                          group=group.name, day=tt.sms_date(day), next=tt.sms_date(next_on), time=tt.time(next_at))

    # TRANSLATORS: the chair's reply to CANCEL; labels as in the members' SMS "meeting cancelled. Date: ...".
    reply = t.gettext("CANCEL: meeting cancelled. Date: {day}. Next meeting: {next}, {time}. "
                      "Every member gets an SMS.", day=t.sms_date(day), next=t.sms_date(next_on),
                      time=t.time(next_at))
    return Outcome(reply, tell_members(ctx, group, text))


register(Command(pgettext("sms keyword", "MOVE"), Grammar.WORD_TEXT, CHAIR, run_move,
                 N_("MOVE 2026-12-08 14:00 - move the next meeting")))
register(Command(pgettext("sms keyword", "CANCEL"), Grammar.NONE, CHAIR, run_cancel,
                 N_("CANCEL [2026-12-08] - cancel the next meeting")))


# -- roles ---------------------------------------------------------------------------------------

ROLE_WORDS = {"member": Role.MEMBER, "treasurer": Role.TREASURER, "chair": Role.CHAIR,
              "secretary": Role.SECRETARY}

#: Role -> how a member reads her new role.
ROLE_LABELS = {
    Role.MEMBER: N_("a member"),
    Role.TREASURER: N_("the treasurer"),
    Role.CHAIR: N_("the chair"),
    Role.SECRETARY: N_("the secretary"),
}


def _role_group(ctx: Context, words: list[str]) -> tuple[Group, list[str]]:
    """The chair's own group; a coordinator names the group's code (ROLE UPENDO 4 treasurer)."""
    if ctx.group is not None:
        return ctx.group, words
    coordinator = ctx.sender.coordinator
    group = ctx.session.scalar(select(Group).where(Group.code == words[0].upper())) if words else None
    if coordinator is None or group is None or not (
            coordinator.all_groups or any(c.id == coordinator.id for c in coordinators_of(ctx.session, group))):
        raise CommandError(ctx.t.gettext("ROLE: write the group's code, the member's number and the role, "
                                         "e.g. ROLE UPENDO 4 treasurer."))
    return group, words[1:]


def run_role(ctx: Context, parsed: Parsed) -> Outcome:
    """ROLE 4 treasurer: the chair (or a coordinator, naming the group) gives member 4 a role.
    A group has one chair: naming a new chair makes the old one a member."""
    t = ctx.t
    group, words = _role_group(ctx, parsed.text.split())
    role = ROLE_WORDS.get(words[1].lower()) if len(words) == 2 else None
    if role is None or not words[0].isdigit():
        # TRANSLATORS: keep ROLE and the English role words: they are what the command reads.
        raise CommandError(t.gettext("ROLE: write the member's number and one of member, treasurer, secretary, "
                                     "chair, e.g. ROLE 4 treasurer."))
    target = ctx.session.scalar(select(Membership).where(
        Membership.group_id == group.id, Membership.number == int(words[0]), Membership.status == Status.ACTIVE))
    if target is None:
        raise CommandError(t.gettext("ROLE: no member {number} in the group.", number=words[0]))
    changed = [target]
    if role == Role.CHAIR:
        for other in ctx.session.scalars(select(Membership).where(
                Membership.group_id == group.id, Membership.role == Role.CHAIR, Membership.id != target.id)):
            other.role = Role.MEMBER
            changed.append(other)
    target.role = role
    ctx.session.flush()
    for membership in changed:
        on_commit(ctx.session, _forget_caller, membership.member.phone)
    notices = []
    for membership in changed:
        member = membership.member
        if ctx.sender.member is not None and member.id == ctx.sender.member.id:
            continue
        mt = translator(member.language)
        notices.append(Notice(member, group, mt.gettext("{group}: you are now {role}.", group=group.name,
                                                        role=mt.gettext(ROLE_LABELS[membership.role])),
                              kind="notice"))
    return Outcome(t.gettext("ROLE: {name} ({number}) is now {role}.", name=target.member.name,
                             number=target.number, role=t.gettext(ROLE_LABELS[role])), notices)


def _forget_caller(services: Services, phone: str) -> None:
    from groups.callers import forget_caller

    forget_caller(services.redis, phone)


register(Command(pgettext("sms keyword", "ROLE"), Grammar.NONE, frozenset({"chair", COORDINATOR}), run_role,
                 N_("ROLE 4 treasurer - change a member's role")))
