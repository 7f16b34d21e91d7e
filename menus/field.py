"""USSD for field staff and referrals.

A field worker (mobiliser, trainer, coach ...) who is not a member dials in to
her own menu; a member promoted to field work finds "Log a visit" on hers. Either
picks one of her groups, then a set note or types a short one.

A member who asks for more than her group can lend is offered her group's
outside lenders (``field.referrals``); her chair confirms from "Referrals" (or
by SMS ``APPROVE F12``), a coordinator by SMS.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from field import referrals as refs
from field.errors import FieldError
from field.models import Referral
from field.visits import NOTE_LENGTH, SET_NOTES, log_visit
from field.workers import groups_of
from groups.models import Group, Member, Role
from i18n import N_
from menus.engine import HOME, Choice, Ctx, End, Go, Invalid, Item, Move, Say, Screen
from menus.pin import needs_pin, with_pin
from orgs.models import FieldWorker, Organisation

FIELD = "field"
TYPE_NOTE = "_type"


def is_field_worker(ctx: Ctx) -> bool:
    return bool(ctx.state.who and ctx.state.who.field_worker_id)


def field_home(ctx: Ctx) -> Move | None:
    """Guard of the home screen: a field worker who is not a member has her own."""
    return Go("field_home", push=False) if ctx.role == FIELD else None


def _worker(ctx: Ctx) -> FieldWorker | None:
    who = ctx.state.who
    worker = ctx.db.get(FieldWorker, who.field_worker_id) if who is not None and who.field_worker_id else None
    return worker if worker is not None and worker.active else None


def _only_field(ctx: Ctx) -> Move | None:
    return None if _worker(ctx) is not None else End(Say(N_("Only a field worker can do this.")))


def _has_groups(ctx: Ctx) -> Move | None:
    blocked = _only_field(ctx)
    if blocked is not None:
        return blocked
    if not groups_of(ctx.db, ctx.state.who.field_worker_id):  # type: ignore[union-attr]
        return End(Say(N_("You have no groups yet. Ask your coordinator.")))
    return None


def _groups(ctx: Ctx) -> list[Choice]:
    return [Choice(f"{g.code} {g.name}", g.id) for g in groups_of(ctx.db, ctx.state.who.field_worker_id)]  # type: ignore[union-attr]


def _pick_group(ctx: Ctx, group_id: Any) -> Move:
    ctx.data["visit_group"] = int(group_id)
    return Go("visit_note")


def _notes(ctx: Ctx) -> list[Choice]:
    return [Choice(ctx.t.gettext(label), code) for code, label in SET_NOTES.items()] + \
        [Choice(ctx.t.gettext("Type a note"), TYPE_NOTE)]


def _pick_note(ctx: Ctx, code: Any) -> Move:
    if code == TYPE_NOTE:
        return Go("visit_type")
    return _save_visit(ctx, str(code))


def _typed_note(ctx: Ctx, raw: str) -> str:
    note = " ".join(raw.split())
    if not note:
        raise Invalid(N_("Please type a short note."))
    if len(note) > NOTE_LENGTH:
        raise Invalid(N_("At most {n} letters, please."), n=str(NOTE_LENGTH))
    return note


def _save_visit(ctx: Ctx, note: str) -> Move:
    worker = _worker(ctx)
    group = ctx.db.get(Group, ctx.data.get("visit_group", 0))
    if worker is None or group is None:
        return End(Say(N_("Only a field worker can do this.")))
    day = ctx.deps.now.astimezone(ZoneInfo(group.timezone)).date()
    try:
        visit, _new = log_visit(ctx.db, worker, group, note, on=day, channel="ussd", key=ctx.key("visit"))
    except FieldError as exc:
        return End(Say(exc.message, exc.values(ctx.t)))
    return End(Say(N_("Your visit to {group} is recorded (V{ref})."), {"group": group.code, "ref": str(visit.id)}))


# -- a member: a referral instead of a loan her group cannot make --------------------------------

def lenders(ctx: Ctx) -> list[tuple[Organisation, int]]:
    return refs.lenders_for(ctx.db, ctx.group)


def after_amount(ctx: Ctx) -> Move:
    """After the loan amount: above her limit (and a lender to offer), the referral; else the loan."""
    if ctx.data["amount"] > ctx.data["limit"]:
        return Go("refer_offer")
    return Go("loan_purpose")


def _offer_body(ctx: Ctx) -> list[str]:
    t = ctx.t
    return [t.gettext("That is above your limit of {limit}.", limit=ctx.money(ctx.data["limit"])),
            t.gettext("An outside lender may lend it:")]


def _offers(ctx: Ctx) -> list[Choice]:
    return [Choice(org.name, org.id) for org, _project in lenders(ctx)] + \
        [Choice(ctx.t.gettext("Type a smaller amount"), 0)]


def _pick_lender(ctx: Ctx, org_id: Any) -> Move:
    if not org_id:
        return Go("loan_amount", push=False)
    ctx.data["lender"] = int(org_id)
    return Go("refer_confirm")


def _refer_body(ctx: Ctx) -> list[str]:
    t = ctx.t
    org = ctx.db.get(Organisation, ctx.data["lender"])
    return [t.gettext("Ask to be sent to {lender} for {amount}? Your chair confirms first.",
                      lender=org.name if org else "?", amount=ctx.money(ctx.data["amount"])),
            t.gettext("Enter your PIN to confirm.")]


def _refer(ctx: Ctx) -> Move:
    try:
        referral = refs.request_referral(ctx.db, ctx.group, ctx.member, ctx.data["lender"], ctx.data["amount"],
                                         key=ctx.key("referral"), service_code=ctx.deps.service_code)
    except FieldError as exc:
        return End(Say(exc.message, exc.values(ctx.t)))
    return End(Say(N_("Request {ref} is sent to your chair. You will get an SMS with the lender's contact."),
                   {"ref": referral.ref}))


# -- the chair: confirm or decline ------------------------------------------------------------

def _waiting(ctx: Ctx) -> list[Referral]:
    return refs.waiting_for(ctx.db, member=ctx.member, group=ctx.group)


def chair_has_referrals(ctx: Ctx) -> bool:
    """Home item: the chair, when a referral waits for her."""
    return ctx.role == Role.CHAIR.value and bool(_waiting(ctx))


def _chair_guard(ctx: Ctx) -> Move | None:
    if ctx.role != Role.CHAIR.value:
        return End(Say(N_("Only the chair can do this.")))
    blocked = needs_pin(ctx)
    if blocked is not None:
        return blocked
    if not _waiting(ctx):
        return Go(HOME, Say(N_("No referrals are waiting.")))
    return None


def _referral_lines(ctx: Ctx) -> list[Choice]:
    rows = _waiting(ctx)
    names = dict(ctx.db.execute(select(Member.id, Member.name).where(
        Member.id.in_([r.member_id for r in rows] or [-1]))).all())
    lenders_ = dict(ctx.db.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_([r.organisation_id for r in rows] or [-1]))).all())
    return [Choice(f"{r.ref} {names.get(r.member_id, '?')} {ctx.money(r.amount)} {lenders_.get(r.organisation_id, '')}",
                   r.ref) for r in rows]


def _pick_referral(ctx: Ctx, ref: Any) -> Move:
    ctx.data["referral"] = str(ref)
    return Go("refer_decision")


def _decisions(ctx: Ctx) -> list[Choice]:
    return [Choice(ctx.t.gettext("Confirm"), True), Choice(ctx.t.gettext("Decline"), False)]


def _pick_decision(ctx: Ctx, value: Any) -> Move:
    ctx.data["approve"] = bool(value)
    return Go("refer_decide")


def _decide_body(ctx: Ctx) -> list[str]:
    t, ref = ctx.t, ctx.data["referral"]
    line = t.gettext("Confirm {ref}?", ref=ref) if ctx.data["approve"] else t.gettext("Decline {ref}?", ref=ref)
    return [line, t.gettext("Enter your PIN to confirm.")]


def _decide(ctx: Ctx) -> Move:
    ref, approve = ctx.data["referral"], ctx.data["approve"]
    try:
        referral = refs.decide(ctx.db, ref, approve=approve, member=ctx.member, now=ctx.deps.now)
    except FieldError as exc:
        return End(Say(exc.message, exc.values(ctx.t)))
    who = ctx.db.get(Member, referral.member_id)
    name = who.name if who is not None else "?"
    done = N_("Referral {ref} confirmed. {name} gets an SMS.") if approve else \
        N_("Referral {ref} declined. {name} gets an SMS.")
    return End(Say(done, {"ref": referral.ref, "name": name}))


SCREENS = [
    Screen("field_home", guard=_only_field, back=False, items=(
        Item(N_("Log a visit"), "visit_group"),
    )),
    Screen("visit_group", guard=_has_groups, choices=_groups, chosen=_pick_group,
           body=lambda ctx: [ctx.t.gettext("Which group did you visit?")]),
    Screen("visit_note", choices=_notes, chosen=_pick_note, body=lambda ctx: [ctx.t.gettext("Note:")]),
    Screen("visit_type", validate=_typed_note, save_as="visit_note",
           then=lambda ctx: _save_visit(ctx, ctx.data["visit_note"]),
           body=lambda ctx: [ctx.t.gettext("Type a short note:")]),
    Screen("refer_offer", body=_offer_body, choices=_offers, chosen=_pick_lender),
    Screen("refer_confirm", body=_refer_body, pin=with_pin(_refer), resumable=False),
    Screen("refer_list", guard=_chair_guard, choices=_referral_lines, chosen=_pick_referral,
           body=lambda ctx: [ctx.t.gettext("Referrals:")]),
    Screen("refer_decision", choices=_decisions, chosen=_pick_decision),
    Screen("refer_decide", body=_decide_body, pin=with_pin(_decide), resumable=False),
]
