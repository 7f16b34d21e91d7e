"""The treasurer's share-out from her USSD menu.

"Share-out" shows the preview (cash box, profit, each member's payout, paged).
She starts it with her PIN: a code comes back (the same as ``SHAREOUT`` by
SMS) and the chair is told by SMS, so she can send ``HOLD``. Within 30 minutes
the treasurer dials again and carries it out with her PIN (or sends
``SHAREOUT <code>``); every member gets an SMS with her payout.
"""
from __future__ import annotations

from sqlalchemy import select

import ledger
from commands.cycle import (
    coordinator_done,
    coordinator_started,
    done_notice,
    payout_text,
    started_notice,
    tell_coordinators,
)
from groups.letters import letters_for
from groups.models import Member, Membership
from i18n import N_, translator
from menus.engine import Choice, Ctx, End, Go, Move, Say, Screen
from menus.home import is_treasurer
from menus.loans import say_error
from menus.pin import needs_pin, with_pin
from messaging.models import Priority
from messaging.outbox import queue_sms


def _guard(ctx: Ctx) -> Move | None:
    """Only the treasurer, with a usable PIN, and only when a share-out can happen now."""
    if not is_treasurer(ctx):
        return End(Say(N_("Only the treasurer can do this.")))
    blocked = needs_pin(ctx)
    if blocked is not None:
        return blocked
    try:
        ledger.preview_share_out(ctx.db, ctx.group)
    except ledger.LedgerError as err:
        return End(_refusal(ctx, err))
    return None


def _refusal(ctx: Ctx, err: ledger.LedgerError) -> Say:
    """Why no share-out now, short enough for one screen (a borrower by her first name, no amounts)."""
    if err.code == "owes_more":
        first = (str(err.params.get("name", "")).split() or ["?"])[0]
        # TRANSLATORS: USSD; {name} is a member's first name; her loan is more than her savings.
        return Say(N_("{name} owes more than she saved. She must repay first."), {"name": first})
    return say_error(ctx, err)


def _names(ctx: Ctx) -> dict[int, tuple[int, str]]:
    rows = ctx.db.execute(select(Membership.member_id, Membership.number, Member.name)
                          .join(Member, Member.id == Membership.member_id)
                          .where(Membership.group_id == ctx.group.id))
    return {mid: (number, (name.split() or ["?"])[0]) for mid, number, name in rows}


def _preview(ctx: Ctx) -> list[str]:
    t = ctx.t
    try:
        preview = ledger.preview_share_out(ctx.db, ctx.group)
    except ledger.LedgerError as err:  # the guard ends the session first; a resumed page says why
        return [_refusal(ctx, err).render(t)]
    names = _names(ctx)
    lines = [t.gettext("Cash box: {amount}", amount=ctx.money(preview.cash_box)),
             t.gettext("Profit: {amount}", amount=ctx.money(preview.profit)),
             # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
             t.gettext("Social fund kept: {amount}", amount=ctx.money(preview.social_fund))]
    for p in preview.payouts:
        number, name = names.get(p.member_id, (0, "?"))
        lines.append(f"#{number} {name} {ctx.money(p.total)}")
    waiting = ledger.waiting_share_out(ctx.db, ctx.group, ctx.deps.now)
    if waiting is not None:
        lines.append(t.gettext("Started, code {code}.", code=waiting.code))
    return lines


def _choices(ctx: Ctx) -> list[Choice]:
    try:
        ledger.preview_share_out(ctx.db, ctx.group)
    except ledger.LedgerError:
        return []
    if ledger.waiting_share_out(ctx.db, ctx.group, ctx.deps.now) is not None:
        return [Choice(ctx.t.gettext("Carry out the share-out"), "shareout_confirm")]
    return [Choice(ctx.t.gettext("Start the share-out"), "shareout_start")]


def _chosen(ctx: Ctx, target: str) -> Move:
    return Go(target)


def _tell(ctx: Ctx, member: Member, text: str, kind: str) -> None:
    queue_sms(ctx.db, to=member.phone, text=text, language=member.language, kind=kind,
              letters=letters_for(member, ctx.group), priority=Priority.NOTICE, member_id=member.id, group_id=ctx.group.id)


#: Who was told of the share-out (``Watchers.tier``) -> the treasurer's answer; never "the chair" when there is none.
STARTED = {
    "chair": N_("Share-out started, code {code}. The chair is told. Carry it out within 30 minutes."),
    "coordinator": N_("Share-out started, code {code}. The coordinator is told. Carry it out within 30 minutes."),
    "officer": N_("Share-out started, code {code}. The secretary is told. Carry it out within 30 minutes."),
    "none": N_("Share-out started, code {code}. Carry it out within 30 minutes."),
}


def _start(ctx: Ctx) -> Move:
    try:
        preview = ledger.start_share_out(ctx.db, ctx.group, actor=ctx.member, now=ctx.deps.now)
    except ledger.LedgerError as err:
        return End(_refusal(ctx, err))
    watchers = ledger.share_out_watchers(ctx.db, ctx.group, treasurer_id=ctx.member.id)
    for member in watchers.members:
        _tell(ctx, member, started_notice(translator(member.language), ctx.group, preview), "notice")
    tell_coordinators(ctx.db, ctx.group, watchers, lambda t: coordinator_started(t, ctx.group, preview))
    return End(Say(STARTED[watchers.tier], {"code": preview.code}))


def _confirm(ctx: Ctx) -> Move:
    waiting = ledger.waiting_share_out(ctx.db, ctx.group, ctx.deps.now)
    if waiting is None:
        return End(say_error(ctx, ledger.LedgerError("no_shareout", N_(
            "No share-out is waiting. The treasurer starts one with SHAREOUT."))))
    try:
        done = ledger.confirm_share_out(ctx.db, ctx.group, waiting.code, actor=ctx.member, now=ctx.deps.now)
    except ledger.LedgerError as err:
        return End(_refusal(ctx, err))
    if not done.replayed:
        for p in done.payouts:
            member = ctx.db.get(Member, p.member_id)
            if member is not None and p.total > 0:
                _tell(ctx, member, payout_text(translator(member.language), ctx.group, p, done.ref), "receipt")
        watchers = ledger.share_out_watchers(ctx.db, ctx.group, treasurer_id=ctx.member.id)
        for member in watchers.members:
            _tell(ctx, member, done_notice(translator(member.language), ctx.group, done), "notice")
        tell_coordinators(ctx.db, ctx.group, watchers, lambda t: coordinator_done(t, ctx.group, done))
    return End(Say(N_("Share-out done: {total} paid to {n} members. Everyone gets an SMS."),
                   {"total": ctx.money(done.total), "n": str(len(done.payouts))}))


SCREENS = [
    Screen("shareout", guard=_guard, body=_preview, choices=_choices, chosen=_chosen),
    Screen("shareout_start", body=lambda ctx: [ctx.t.gettext("Start the share-out? Enter your PIN.")],
           pin=with_pin(_start), resumable=False),
    Screen("shareout_confirm", body=lambda ctx: [ctx.t.gettext("Pay everyone out now? Enter your PIN.")],
           pin=with_pin(_confirm), resumable=False),
]
