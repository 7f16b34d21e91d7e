"""``ATT SESSION WHO ...``: the trainer records who came to a training session, by SMS.

``WHO`` is a member's number in the session's group or her phone number. Only
the session's trainer or a coordinator of the session's group may send it. One
SMS is all-or-nothing: an unknown session, a member who is not there or not
enrolled refuses the whole SMS, naming the item. Sending it again changes
nothing (the reply says who was already recorded). Each member who completes
her training with it gets an SMS in her language.
"""
from __future__ import annotations

from sqlalchemy import select

from commands.context import CommandError, Context, Outcome
from commands.messages import NOTHING_RECORDED
from commands.parser import Grammar, Parsed
from commands.registry import COORDINATOR, Command, pgettext, register
from groups.models import Coordinator, CoordinatorGroup, Group, Member, Membership, Status
from groups.phones import try_normalise
from i18n import N_
from orgs.models import FieldRole
from programmes.models import Course, Enrolment, TrainingSession
from programmes.service import ProgrammeError, record_attendance

TRAINER = FieldRole.TRAINER.value


def run_att(ctx: Context, parsed: Parsed) -> Outcome:
    t = ctx.t
    ts = _session(ctx, parsed.word or "")
    if not _may_record(ctx, ts):
        raise CommandError(t.gettext("Only the session's trainer or a coordinator can record attendance "
                                     "for session {session}.", session=ts.id))
    tokens = parsed.text.replace(",", " ").split()
    if not tokens:
        raise CommandError(t.gettext("ATT: write the session number and the members' numbers, "
                                     "e.g. ATT {session} 3 4 7.", session=ts.id))
    course = ctx.session.get(Course, ts.course_id)
    assert course is not None
    enrolments = [_enrolment(ctx, ts, course.programme_id, i, tok) for i, tok in enumerate(tokens, start=1)]
    try:
        marked = record_attendance(ctx.session, ts, list(dict.fromkeys(enrolments)), source="sms")
    except ProgrammeError as err:
        raise CommandError(err.text(t.lang) + " " + t.gettext(NOTHING_RECORDED)) from None
    reply = t.gettext("Session {session} ({course}): {added} recorded, {already} already recorded.",
                      session=ts.id, course=course.name, added=len(marked.added), already=len(marked.already))
    if marked.completed:
        reply += " " + t.gettext("Completed the training: {names}.",
                                 names=", ".join(_names(ctx, marked.completed)))
    return Outcome(reply)


def _session(ctx: Context, word: str) -> TrainingSession:
    ts = ctx.session.get(TrainingSession, int(word)) if word.isdigit() and len(word) < 10 else None
    if ts is None:
        raise CommandError(ctx.t.gettext("There is no training session {session}.", session=word[:12]))
    return ts


def _may_record(ctx: Context, ts: TrainingSession) -> bool:
    worker = ctx.sender.field_worker
    if worker is not None and worker.role == FieldRole.TRAINER and worker.id == ts.trainer_id:
        return True
    return ctx.sender.coordinator is not None and _coordinates(ctx, ctx.sender.coordinator, ts)


def _coordinates(ctx: Context, coordinator: Coordinator, ts: TrainingSession) -> bool:
    if coordinator.all_groups:
        return True
    if ts.group_id is None:
        return False
    if ctx.session.get(CoordinatorGroup, (coordinator.id, ts.group_id)) is not None:
        return True
    group = ctx.session.get(Group, ts.group_id)
    return group is not None and bool(group.region) and group.region in (coordinator.regions or [])


def _enrolment(ctx: Context, ts: TrainingSession, programme_id: int, index: int, token: str) -> Enrolment:
    t = ctx.t
    member = _member(ctx, ts, token)
    if member is None:
        raise CommandError(t.gettext("ATT: item {index} ({item}): no such member in this session's group.",
                                     index=index, item=token[:16]) + " " + t.gettext(NOTHING_RECORDED))
    enrolment = ctx.session.scalar(select(Enrolment).where(Enrolment.programme_id == programme_id,
                                                           Enrolment.member_id == member.id))
    if enrolment is None:
        raise CommandError(t.gettext("ATT: item {index} ({item}): {name} is not enrolled in this programme.",
                                     index=index, item=token[:16], name=member.name)
                           + " " + t.gettext(NOTHING_RECORDED))
    return enrolment


def _member(ctx: Context, ts: TrainingSession, token: str) -> Member | None:
    token = token.lstrip("#")
    group = ctx.session.get(Group, ts.group_id) if ts.group_id else None
    if token.isdigit() and len(token) <= 4:
        if group is None:
            return None
        return ctx.session.scalar(select(Member).join(Membership, Membership.member_id == Member.id)
                                  .where(Membership.group_id == group.id, Membership.number == int(token),
                                         Membership.status == Status.ACTIVE))
    phone = try_normalise(token, group.country if group else None)
    return ctx.session.scalar(select(Member).where(Member.phone == phone)) if phone else None


def _names(ctx: Context, enrolments: list[Enrolment]) -> list[str]:
    ids = [e.member_id for e in enrolments]
    names = dict(ctx.session.execute(select(Member.id, Member.name).where(Member.id.in_(ids))).all())
    return [names.get(i, "?") for i in ids]


register(Command(
    keyword=pgettext("sms keyword", "ATT"),
    grammar=Grammar.WORD_TEXT,
    roles=frozenset({TRAINER, COORDINATOR}),
    run=run_att,
    usage=N_("ATT session number ... (attendance at a training session)"),
))
