"""Asking for a loan (member) and deciding on requests (chair).

Member: her limit, the amount (refused above the limit, naming it), the
purpose (business categories only), the term, then the total to repay and
her PIN. The chair gets an SMS; she decides from her own menu with her PIN.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

import ledger
from groups.models import Member, Role
from i18n import N_
from ledger.approvals import check_decider
from ledger.errors import MONEY_PARAMS
from ledger.loans import LOAN_STATUS_LABELS, open_loans, withdraw_loan
from ledger.models import Loan, LoanStatus
from ledger.money import amount_example
from menus.engine import HOME, Choice, Ctx, End, Go, Invalid, Move, Say, Screen
from menus.field import after_amount, lenders
from menus.pin import needs_pin, with_pin
from outreach.loan_news import (
    NOBODY,
    REASONS,
    SENT_TO,
    tell_deciders,
    tell_decision,
    tell_withdrawn,
    who_decides,
)

#: Terms offered, in months (VSLA practice: 3, up to 6 for mature groups).
TERMS = (1, 2, 3, 6)
UNIT = "month"


def say_error(ctx: Ctx, err: ledger.LedgerError) -> Say:
    """A ledger refusal as a sentence for her (money in her group's currency)."""
    params = {k: ctx.money(v) if k in MONEY_PARAMS and isinstance(v, int) else str(v)
              for k, v in err.params.items()}
    return Say(err.message, params)


# -- member: ask for a loan --------------------------------------------------------------

def _can_borrow(ctx: Ctx) -> Move | None:
    """Guard: the group's programme rule, a usable PIN, and something to borrow (else say why and stop)."""
    from programmes.service import loan_refusal

    refusal = loan_refusal(ctx.db, ctx.group, ctx.member.id)
    if refusal is not None:
        return End(Say(refusal))
    blocked = needs_pin(ctx)
    if blocked is not None:
        return blocked
    refused = _own_fund_condition(ctx)
    if refused is not None:
        return refused
    limit = ledger.loan_limit(ctx.db, ctx.group, ctx.member)
    if limit <= 0:
        waiting = open_loans(ctx.db, ctx.group, ctx.member)
        if waiting and waiting[0].status == LoanStatus.ACTIVE:
            return End(Say(N_("You already have a loan. Repay it first.")))
        if waiting:  # a request still with the chair, or approved and not yet paid out
            loan, t = waiting[0], ctx.t
            return End(Say(N_("Request {ref} for {amount}: {status}."), {
                "ref": loan.ref, "amount": ctx.money(loan.principal),
                "status": t.gettext(LOAN_STATUS_LABELS[loan.status.value])}))
        return End(Say(N_("You cannot borrow yet: your limit grows with your savings.")))
    ctx.data["limit"] = limit
    return None


def _amount(ctx: Ctx, raw: str) -> int:
    try:
        amount = ledger.parse_amount(raw, ctx.group.currency)
    except ledger.AmountError as bad:
        raise Invalid(ledger.AMOUNT_MESSAGES[bad.reason], text=raw[:20],
                      example=amount_example(ctx.group.currency)) from None
    if amount > ctx.data["limit"] and not lenders(ctx):  # with a lender: a referral (menus.field)
        raise Invalid(N_("That is above your limit of {limit}. Type a smaller amount."),
                      limit=ctx.money(ctx.data["limit"]))
    return amount


def _own_fund_condition(ctx: Ctx) -> Move | None:
    """The group's own fund may set a condition (``orgs.conditions``, e.g. training completed)."""
    from field.errors import FieldError
    from field.referrals import check_condition, condition_of

    try:
        check_condition(ctx.db, condition_of(ctx.db, group=ctx.group), ctx.member.id)
    except FieldError as exc:
        return End(Say(exc.message, exc.values(ctx.t)))
    return None


def _purposes(ctx: Ctx) -> list[Choice]:
    return [Choice(ctx.t.gettext(label), code) for code, label in ledger.LOAN_PURPOSES]


def _terms(ctx: Ctx) -> list[Choice]:
    return [Choice(ctx.t.ngettext("{n} month", "{n} months", n), n) for n in TERMS]


def _keep(name: str, target: str) -> Any:
    def chosen(ctx: Ctx, value: Any) -> Move:
        ctx.data[name] = value
        return Go(target)
    return chosen


def _confirm_body(ctx: Ctx) -> list[str]:
    t, d = ctx.t, ctx.data
    from groups.changes import meeting_days

    quote = ledger.quote_loan(ctx.group, d["amount"], d["term"], UNIT,
                              meets=meeting_days(ctx.db, [ctx.group.id]).get(ctx.group.id))
    first = quote.schedule[0]
    return [t.gettext("Borrow {amount} for {term}.", amount=ctx.money(quote.principal),
                      term=t.ngettext("{n} month", "{n} months", quote.term)),
            t.gettext("Repay in all: {total}", total=ctx.money(quote.total)),
            t.gettext("First instalment: {amount}", amount=ctx.money(first.amount)),
            # TRANSLATORS: a label, under "First instalment" or "Next instalment": its date ("Sunday 6 December").
            t.gettext("Due date: {date}", date=t.date(first.on)),
            t.gettext("Enter your PIN to confirm.")]


def _request(ctx: Ctx) -> Move:
    d = ctx.data
    if who_decides(ctx.db, ctx.group, ctx.member.id).tier == "none":
        return End(Say(NOBODY))  # never "sent to your chair" when nobody would receive it
    try:
        loan = ledger.request_loan(ctx.db, ctx.group, ctx.member, d["amount"], purpose=d["purpose"],
                                   term=d["term"], unit=UNIT, key=ctx.key("loan"))
    except ledger.LedgerError as err:
        return End(say_error(ctx, err))
    tier = tell_deciders(ctx.db, ctx.group, loan, ctx.member, ctx.deps.service_code)
    return End(Say(SENT_TO.get(tier, NOBODY), {"ref": loan.ref}))


# -- chair (or the officer who decides instead): decide, or cancel an approved loan ----------------

OFFICER_ROLES = {Role.CHAIR.value, Role.SECRETARY.value, Role.TREASURER.value}


def decidable(ctx: Ctx) -> list[Loan]:
    """Requests she may decide, then approved loans (not paid out) she may cancel."""
    loans = ledger.pending_loans(ctx.db, ctx.group) + ledger.approved_loans(ctx.db, ctx.group)
    mine = []
    for loan in loans:
        try:
            check_decider(ctx.db, ctx.group, loan, ctx.member, None)
        except ledger.LedgerError:
            continue
        mine.append(loan)
    return mine


def may_decide(ctx: Ctx) -> bool:
    """Home item: the chair always; a secretary or treasurer when something waits for her."""
    if ctx.role == Role.CHAIR.value:
        return True
    return ctx.role in OFFICER_ROLES and bool(decidable(ctx))


def _has_requests(ctx: Ctx) -> Move | None:
    if ctx.role not in OFFICER_ROLES:
        return End(Say(N_("Only the chair can do this.")))
    blocked = needs_pin(ctx)
    if blocked is not None:
        return blocked
    if not decidable(ctx):
        return Go(HOME, Say(N_("No loan requests are waiting.")))
    return None


def _requests(ctx: Ctx) -> list[Choice]:
    loans = decidable(ctx)
    names = _names(ctx, {loan.member_id for loan in loans})
    # TRANSLATORS: marks an approved loan not yet paid out in the chair's list (short: a USSD line).
    approved = " " + ctx.t.gettext("(approved)")
    return [Choice(f"{loan.ref} {names.get(loan.member_id, '?')} {ctx.money(loan.principal)}"
                   + (approved if loan.status == LoanStatus.APPROVED else ""), loan.ref)
            for loan in loans]


def _names(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {mid: name for mid, name in ctx.db.execute(select(Member.id, Member.name).where(Member.id.in_(ids)))}


def _loan_details(ctx: Ctx) -> list[str]:
    t = ctx.t
    loan = ledger.get_loan(ctx.db, ctx.group, ctx.data["loan"])
    who = ctx.db.get(Member, loan.member_id)
    purpose = dict(ledger.LOAN_PURPOSES).get(loan.purpose, loan.purpose)
    return [t.gettext("{ref}: {name}, {amount} for {term}, {purpose}.", ref=loan.ref,
                      name=who.name if who else "?", amount=ctx.money(loan.principal),
                      term=t.ngettext("{n} month", "{n} months", loan.term), purpose=t.gettext(purpose))]


def _decisions(ctx: Ctx) -> list[Choice]:
    loan = ledger.get_loan(ctx.db, ctx.group, ctx.data["loan"])
    if loan.status == LoanStatus.APPROVED:  # not paid out: the cash box could not, or it should not be
        return [Choice(ctx.t.gettext("Cancel the loan"), "cancel")]
    return [Choice(ctx.t.gettext("Approve"), True), Choice(ctx.t.gettext("Decline"), False)]


def _decision(ctx: Ctx, value: Any) -> Move:
    ctx.data["approve"] = value
    ctx.data.pop("reason", None)
    return Go("chair_decide" if value is True else "chair_reason")


def _reasons(ctx: Ctx) -> list[Choice]:
    return [Choice(ctx.t.gettext(label), code) for code, label in REASONS.items()]


def _decide_body(ctx: Ctx) -> list[str]:
    t, ref, approve = ctx.t, ctx.data["loan"], ctx.data["approve"]
    if approve == "cancel":
        line = t.gettext("Cancel loan {ref}?", ref=ref)
    else:
        line = t.gettext("Approve {ref}?", ref=ref) if approve else t.gettext("Decline {ref}?", ref=ref)
    return [line, t.gettext("Enter your PIN to confirm.")]


def _decide(ctx: Ctx) -> Move:
    ref, approve, reason = ctx.data["loan"], ctx.data["approve"], ctx.data.get("reason")
    if approve == "cancel":
        return _cancel(ctx, ref, reason)
    try:
        loan = ledger.decide_loan(ctx.db, ctx.group, ref, approve=bool(approve), actor=ctx.member,
                                  reason=REASONS.get(reason or "", None), key=ctx.key(f"decide:{ref}"))
    except ledger.LedgerError as err:
        return End(say_error(ctx, err))
    who = ctx.db.get(Member, loan.member_id)
    assert who is not None
    tell_decision(ctx.db, ctx.group, loan, who, approve=bool(approve), reason=reason, decided_by=ctx.member.id)
    done = N_("Loan {ref} approved. {name} gets an SMS.") if approve else N_("Loan {ref} declined. {name} gets an SMS.")
    return End(Say(done, {"ref": loan.ref, "name": who.name}))


def _cancel(ctx: Ctx, ref: str, reason: str | None) -> Move:
    try:
        loan = withdraw_loan(ctx.db, ctx.group, ref, actor=ctx.member, reason=REASONS.get(reason or "", None))
    except ledger.LedgerError as err:
        return End(say_error(ctx, err))
    who = ctx.db.get(Member, loan.member_id)
    assert who is not None
    tell_withdrawn(ctx.db, ctx.group, loan, who, reason=reason)
    return End(Say(N_("Loan {ref} is cancelled. {name} gets an SMS."), {"ref": loan.ref, "name": who.name}))


SCREENS = [
    Screen("loan_amount", guard=_can_borrow, validate=_amount, save_as="amount", then=after_amount,
           body=lambda ctx: [ctx.t.gettext("You can borrow up to {limit}. How much?",
                                           limit=ctx.money(ctx.data["limit"]))]),
    Screen("loan_purpose", body=lambda ctx: [ctx.t.gettext("What is it for?")],
           choices=_purposes, chosen=_keep("purpose", "loan_term")),
    Screen("loan_term", body=lambda ctx: [ctx.t.gettext("Repay over:")],
           choices=_terms, chosen=_keep("term", "loan_confirm")),
    Screen("loan_confirm", body=_confirm_body, pin=with_pin(_request), resumable=False),
    Screen("chair_loans", guard=_has_requests, choices=_requests, chosen=_keep("loan", "chair_loan"),
           body=lambda ctx: [ctx.t.gettext("Loan requests:")]),
    Screen("chair_loan", body=_loan_details, choices=_decisions, chosen=_decision),
    Screen("chair_reason", body=lambda ctx: [ctx.t.gettext("Why? The member reads it.")],
           choices=_reasons, chosen=_keep("reason", "chair_decide")),
    Screen("chair_decide", body=_decide_body, pin=with_pin(_decide), resumable=False),
]
