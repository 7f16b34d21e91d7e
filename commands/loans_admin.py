"""Loans that never get stuck, by SMS: who decides, cancelling an approved loan.

``APPROVE L17`` / ``DECLINE L17 [reason]``: the chair; for the chair's own loan,
or in a group without a chair, a secretary or treasurer (``ledger.approvals``);
a coordinator for any group she follows. ``DECLINE`` of a loan already approved
but not paid out cancels it, as does ``CANCEL L17 [reason]``. The borrower gets
the same text whichever channel decided (``outreach.loan_news``); on approval
the treasurer is told to pay it out.
"""
from __future__ import annotations

from sqlalchemy import select

import ledger
from commands import meeting  # noqa: F401  (registers the chair-only APPROVE / DECLINE first: replaced below)
from commands.context import CommandError, Context, Outcome
from commands.messages import ROLE_NAMES, item_problem
from commands.parser import Grammar, Parsed
from commands.registry import COORDINATOR, Command, pgettext, register
from groups.models import Group, Member
from groups.service import coordinators_of
from i18n import N_
from ledger.errors import LedgerError
from ledger.loans import parse_ref, withdraw_loan
from ledger.models import Loan, LoanStatus
from outreach.loan_news import tell_decision, tell_withdrawn

DECIDERS = frozenset({"chair", "secretary", "treasurer", COORDINATOR})
CHAIR = frozenset({"chair"})


def _group_and_coordinator(ctx: Context, ref: str, command: str) -> tuple[Group, int | None]:
    """The group the loan is decided in: the sender's (an officer), or the loan's (a coordinator
    who follows that group)."""
    if ctx.group is not None:
        return ctx.group, None
    coordinator = ctx.sender.coordinator
    loan_id = parse_ref(ref, "L")
    loan = ctx.session.get(Loan, loan_id) if loan_id is not None else None
    group = ctx.session.get(Group, loan.group_id) if loan is not None else None
    if coordinator is None or group is None or not (
            coordinator.all_groups or any(c.id == coordinator.id for c in coordinators_of(ctx.session, group))):
        raise CommandError(item_problem(ctx.t, command, 1, ref, ctx.t.gettext(
            "There is no loan {ref} in this group.", ref=ref).rstrip(".")))
    return group, coordinator.id


def _refused(ctx: Context, command: str, ref: str, exc: LedgerError, group: Group) -> CommandError:
    stand_in = ctx.membership is not None and ctx.membership.role.value != "chair"
    if exc.code == "not_allowed" or (stand_in and exc.code == "unknown_loan"):
        chair = ROLE_NAMES["chair"]
        # TRANSLATORS: {role} is e.g. "the chair"; {command} is an SMS keyword such as SAVE.
        return CommandError(ctx.t.gettext("Sorry, only {role} can send {command}.",
                                          role=ctx.t.gettext(chair), command=command))
    return CommandError(item_problem(ctx.t, command, 1, ref, exc.render(ctx.t, group.currency).rstrip(".।")))


def _borrower(ctx: Context, loan: Loan) -> Member:
    borrower = ctx.session.get(Member, loan.member_id)
    assert borrower is not None
    return borrower


def _decide(ctx: Context, parsed: Parsed, approve: bool) -> Outcome:
    ref = parsed.ref or ""
    group, coordinator_id = _group_and_coordinator(ctx, ref, parsed.command)
    actor = ctx.actor if coordinator_id is None else None
    if not approve:
        current = ctx.session.scalar(select(Loan.status).where(Loan.id == parse_ref(ref, "L"),
                                                               Loan.group_id == group.id))
        if current == LoanStatus.APPROVED:
            return _cancel(ctx, group, coordinator_id, parsed.command, ref, parsed.text)
    try:
        loan = ledger.decide_loan(ctx.session, group, ref, approve=approve, actor=actor, reason=parsed.text or None,
                                  key=ctx.key, coordinator_id=coordinator_id)
    except LedgerError as exc:
        raise _refused(ctx, parsed.command, ref, exc, group) from None
    tell_decision(ctx.session, group, loan, _borrower(ctx, loan), approve=approve, reason=parsed.text or None,
                  decided_by=actor.id if actor is not None else None)
    if approve:
        return Outcome(ctx.t.gettext("APPROVE: loan {loan} approved.", loan=loan.ref))
    return Outcome(ctx.t.gettext("DECLINE: loan {loan} declined.", loan=loan.ref))


def _cancel(ctx: Context, group: Group, coordinator_id: int | None, command: str, ref: str, reason: str) -> Outcome:
    actor = ctx.actor if coordinator_id is None else None
    try:
        loan = withdraw_loan(ctx.session, group, ref, actor=actor, coordinator_id=coordinator_id,
                             reason=reason or None)
    except LedgerError as exc:
        raise _refused(ctx, command, ref, exc, group) from None
    borrower = _borrower(ctx, loan)
    if loan.status == LoanStatus.DECLINED:  # it was still a request
        tell_decision(ctx.session, group, loan, borrower, approve=False, reason=reason or None)
        return Outcome(ctx.t.gettext("DECLINE: loan {loan} declined.", loan=loan.ref))
    tell_withdrawn(ctx.session, group, loan, borrower, reason=reason or None)
    # TRANSLATORS: {command} is the SMS keyword used (CANCEL or DECLINE).
    return Outcome(ctx.t.gettext("{command}: approved loan {loan} is cancelled; {name} gets an SMS.",
                                 command=command, loan=loan.ref, name=borrower.name))


def cancel_loan(ctx: Context, ref: str, reason: str) -> Outcome:
    """``CANCEL L17 [reason]`` (from ``commands.admin``): withdraw an approved loan."""
    group, coordinator_id = _group_and_coordinator(ctx, ref, "CANCEL")
    return _cancel(ctx, group, coordinator_id, "CANCEL", ref, reason)


def run_approve(ctx: Context, parsed: Parsed) -> Outcome:
    return _decide(ctx, parsed, approve=True)


def run_decline(ctx: Context, parsed: Parsed) -> Outcome:
    return _decide(ctx, parsed, approve=False)


# Replace the chair-only APPROVE / DECLINE (commands.meeting) with the ones above.
register(Command(pgettext("sms keyword", "APPROVE"), Grammar.REF, DECIDERS, run_approve,
                 N_("APPROVE L17 - approve a loan"), card=CHAIR))
register(Command(pgettext("sms keyword", "DECLINE"), Grammar.REF_REASON, DECIDERS, run_decline,
                 N_("DECLINE L17 [reason] - decline a loan"), card=CHAIR))
