"""One USSD hop, start to finish: session, input, machine, reply, save.

``answer`` is the neutral function the provider handlers call. The input of a
hop is what ``text`` adds beyond what the session has already seen, so a
repeated request re-sends the same screen, a multi-digit amount arrives whole,
and a dialled shortcut (``*384*123*1*2#`` arriving as ``text=1*2`` on the first
hop) is played as the inputs it contains.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.letters import letters_for
from groups.models import Group, Member, Membership, Status
from i18n import N_, translator
from menus.engine import HOME, Ctx, Deps, End, Go, Machine, Say
from menus.hop import Hop, Reply
from menus.state import Arrival, SessionStore, State, Who


@dataclass(frozen=True)
class Answer:
    """The reply and what may be logged about the hop (never the raw text)."""

    reply: Reply
    screen: str
    scrubbed: str


def answer(machine: Machine, hop: Hop, db: Session, store: SessionStore, deps: Deps,
           default_language: str) -> Answer:
    """Play one hop and return the reply; the session is saved before returning."""
    arrival = store.load(hop.session_id, hop.phone, resume=hop.text == "")
    state = arrival.state
    if state is not None and state.phone != hop.phone:
        t = translator(default_language)
        return Answer(Reply(t.gettext("This session belongs to another phone. Please dial again."),
                            end=True), "refused", scrub(hop.text, []))
    if state is not None and len(hop.text) <= state.seen:  # a repeated request: same screen again
        return Answer(Reply(state.last, end=state.ended), state.screen, scrub(hop.text, state.secret))
    fresh = state is None
    if state is None:
        state = _start(db, arrival, hop)
        if state is None:
            t = translator(default_language)
            # TRANSLATORS: USSD, at most 80 characters once translated (one screen).
            return Answer(Reply(t.gettext("This number is not registered. Ask your group's treasurer "
                                          "or coordinator."), end=True),
                          "unknown", scrub(hop.text, []))
    ctx = Ctx(hop, state, db, deps)
    end = _play(machine, ctx, new_inputs(hop.text, state.seen, fresh), fresh)
    state.seen = len(hop.text)
    reply = machine.reply(ctx, end)
    _save(machine, store, hop, state, reply)
    return Answer(reply, state.screen, scrub(hop.text, state.secret))


def _start(db: Session, arrival: Arrival, hop: Hop) -> State | None:
    """A new session: resumed if she dropped one in the last minutes, else at home."""
    who, dropped = arrival.who, arrival.dropped
    looked_up = who is None
    if who is None:
        who = identify(db, hop.phone)
        if who is None:
            return None
    state = State(phone=hop.phone, who=who, screen="pick_group" if who.groups > 1 else HOME)
    if dropped is not None and dropped.who is not None and dropped.who.member_id == who.member_id:
        dropped.who = who
        dropped.data["_note"] = Say(N_("Welcome back. 00 for the main menu.")).dump()
        state = dropped
    state.who_changed = looked_up
    state.copy_kept = arrival.copy_may_exist
    return state


def _play(machine: Machine, ctx: Ctx, inputs: list[tuple[str, tuple[int, int]]], fresh: bool) -> End | None:
    if fresh and ctx.state.screen == HOME:
        end = machine.go(ctx, Go(HOME))  # a new session enters home (and its guard)
        if end is not None:
            return end
    for raw, span in inputs:
        ctx.span = span
        if machine.screens[ctx.state.screen].secret:
            ctx.state.secret.append(list(span))
        end = machine.take(ctx, raw)
        if end is not None:
            return end
    return None


def _save(machine: Machine, store: SessionStore, hop: Hop, state: State, reply: Reply) -> None:
    state.last, state.ended = reply.text, reply.end
    if reply.end:
        state.data = {}
    screen = machine.screens[state.screen]
    resumable = not reply.end and screen.midway and state.screen != HOME
    store.save(hop.session_id, state, resumable=resumable)


def new_inputs(text: str, seen: int, fresh: bool) -> list[tuple[str, tuple[int, int]]]:
    """This hop's inputs with their [start, end) spans in ``text``.

    A new session plays every ``*``-separated piece (a dialled shortcut); an
    ongoing one takes what was added after the ``*`` that follows the seen part.
    """
    if fresh:
        if text == "":
            return []
        spans, start = [], 0
        for piece in text.split("*"):
            spans.append((piece, (start, start + len(piece))))
            start += len(piece) + 1
        return spans
    start = seen + 1 if text[seen:seen + 1] == "*" else seen
    return [(text[start:], (start, len(text)))]


def identify(db: Session, phone: str) -> Who | None:
    """The registered, active member behind ``phone`` and her (first) active group; ``groups``
    says in how many she is (more than one: she chooses on her first screen)."""
    rows = db.execute(
        select(Member, Membership, Group).join(Membership, Membership.member_id == Member.id)
        .join(Group, Group.id == Membership.group_id)
        .where(Member.phone == phone, Member.status == Status.ACTIVE,
               Membership.status == Status.ACTIVE, Group.status == Status.ACTIVE)
        .order_by(Membership.id).limit(10)).all()
    if not rows:
        return _coordinator(db, phone) or _field_worker(db, phone)
    member, membership, group = rows[0]
    who = who_for(member, membership, group, groups=len(rows))
    worker = _field_worker(db, phone)  # a member promoted to field work: her visits from her own menu
    who.field_worker_id = worker.field_worker_id if worker is not None else 0
    from programmes.models import Enrolment

    # Only a programme's beneficiary is asked about grants and check-ins: nobody else's dial pays for it.
    who.enrolled = db.scalar(select(Enrolment.id).where(Enrolment.member_id == member.id).limit(1)) is not None
    return who


def _coordinator(db: Session, phone: str) -> Who | None:
    """A coordinator (who is not herself a member): her own menu."""
    from groups.models import Coordinator

    found = db.scalar(select(Coordinator).where(Coordinator.phone == phone))
    if found is None:
        return None
    return Who(member_id=0, group_id=0, membership_id=0, role="coordinator", lang=found.language,
               coordinator_id=found.id)


def _field_worker(db: Session, phone: str) -> Who | None:
    """A field worker (mobiliser, trainer ...) who is not a member: her own menu (``menus.field``)."""
    from orgs.models import FieldWorker

    found = db.scalar(select(FieldWorker).where(FieldWorker.phone == phone, FieldWorker.active.is_(True)))
    if found is None:
        return None
    return Who(member_id=0, group_id=0, membership_id=0, role="field", lang=found.language,
               field_worker_id=found.id)


def who_for(member: Member, membership: Membership, group: Group, groups: int = 1) -> Who:
    """The session's caller as a member of ``group``."""
    return Who(member_id=member.id, group_id=group.id, membership_id=membership.id, role=membership.role.value,
               lang=member.language, plain=letters_for(member, group).plain, group_name=group.name,
               currency=group.currency, timezone=group.timezone, meeting_weekday=group.meeting_weekday,
               meeting_time=group.meeting_time.strftime("%H:%M"), meeting_place=group.meeting_place or "",
               meeting_every_weeks=group.meeting_every_weeks,
               meeting_anchor=group.meeting_anchor.isoformat() if group.meeting_anchor else "",
               pin_for_balance=bool(group.pin_for_balance), groups=groups)


def scrub(text: str, spans: list[list[int]]) -> str:
    """``text`` with the PIN spans masked, for logs."""
    chars = list(text)
    for start, end in spans:
        for i in range(max(0, start), min(end, len(chars))):
            chars[i] = "#"
    return "".join(chars)
