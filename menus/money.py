"""What she reads about her money: savings, loan, mini-statement (reads only)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import ledger
from i18n import N_
from ledger.loans import LOAN_STATUS_LABELS, open_loans
from menus.engine import Ctx, Screen
from menus.privacy import balance_guard

#: Posting kind -> label on a mini-statement line.
KIND_LABELS = {
    "saving": N_("Saving"),
    # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
    "social": N_("Social fund"),
    "fine": N_("Fine"),
    "repayment": N_("Loan repaid"),
    "disbursement": N_("Loan paid out"),
    # TRANSLATORS: help paid from the group's mutual-help fund (not the state social fund).
    "social_payout": N_("From social fund"),
    "transfer": N_("Transfer"),
    "share_out": N_("Share-out"),
    "reversal": N_("Correction"),
    "withdrawal": N_("Paid out on leaving"),
}
OTHER = N_("Other")
STATEMENT_LENGTH = 10


def _today(ctx: Ctx) -> dt.date:
    """Today where her group meets."""
    who = ctx.state.who
    assert who is not None
    return ctx.deps.now.astimezone(ZoneInfo(who.timezone or "UTC")).date()


def _position(ctx: Ctx) -> ledger.Position:
    """Her position today, from the read cache while her group's books have not changed."""
    who, today = ctx.state.who, _today(ctx)
    assert who is not None
    return ledger.cached_position(ctx.deps.reads, who.group_id, who.member_id, today,
                                  lambda: ledger.member_position(ctx.db, ctx.group, ctx.member, today))


def _savings(ctx: Ctx) -> list[str]:
    t, pos = ctx.t, _position(ctx)
    if pos.vsla:
        first = t.gettext("Shares: {shares} ({amount})", shares=t.number(pos.shares), amount=ctx.money(pos.savings))
    else:
        first = t.gettext("Savings: {amount}", amount=ctx.money(pos.savings))
    return [first,
            # TRANSLATORS: the group's mutual-help fund, not the state social fund: see the glossary.
            t.gettext("Social fund paid: {amount}", amount=ctx.money(pos.social_paid)),
            t.gettext("Next meeting: {date}", date=t.date(pos.next_meeting)),
            # TRANSLATORS: what she brings to the next meeting (savings, mutual-help fund, instalment).
            t.gettext("To bring: {amount}", amount=ctx.money(pos.due_next_meeting))]


def _loan(ctx: Ctx) -> list[str]:
    t, pos = ctx.t, _position(ctx)
    if pos.loan_ref is None:
        return [_pending_or_none(ctx)]
    lines = [t.gettext("Loan {ref}: you owe {amount}", ref=pos.loan_ref, amount=ctx.money(pos.loan_outstanding))]
    if pos.next_instalment is not None:
        lines.append(t.gettext("Next instalment: {amount}", amount=ctx.money(pos.next_instalment.amount)))
        lines.append(t.gettext("Due date: {date}", date=t.date(pos.next_instalment.on)))
    if pos.overdue:
        lines.append(t.ngettext("Late by {n} day!", "Late by {n} days!", pos.days_past_due))
    return lines


def _pending_or_none(ctx: Ctx) -> str:
    waiting = open_loans(ctx.db, ctx.group, ctx.member)
    if not waiting:
        return ctx.t.gettext("You have no loan.")
    loan = waiting[0]
    return ctx.t.gettext("Request {ref} for {amount}: {status}.", ref=loan.ref, amount=ctx.money(loan.principal),
                         status=ctx.t.gettext(LOAN_STATUS_LABELS[loan.status.value]))


def _statement(ctx: Ctx) -> list[str]:
    t, who = ctx.t, ctx.state.who
    assert who is not None
    entries = ledger.cached_statement(ctx.deps.reads, who.group_id, who.member_id, STATEMENT_LENGTH,
                                      lambda: ledger.mini_statement(ctx.db, ctx.group, ctx.member,
                                                                    limit=STATEMENT_LENGTH))
    if not entries:
        return [t.gettext("No entries yet.")]
    return [_entry_line(ctx, e) for e in entries]


def _entry_line(ctx: Ctx, e: ledger.Entry) -> str:
    t = ctx.t
    label = t.gettext(KIND_LABELS.get(e.kind, OTHER))
    if e.kind == "fine" and e.memo:
        from groups.rules import fine_name

        label = f"{label} ({fine_name(t, ctx.group, e.memo)})"
    line = f"{t.date(e.on, 'd MMM')} {label} {ctx.money(e.amount)} {e.ref}"
    if e.reversed:
        line += " " + t.gettext("(corrected)")
    return line


SCREENS = [
    Screen("savings", body=_savings, guard=balance_guard),
    Screen("loan", body=_loan, guard=balance_guard),
    Screen("statement", body=_statement, guard=balance_guard),
]
