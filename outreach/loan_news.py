"""Who hears what about a loan, the same words whichever channel (SMS or USSD) acted.

- a request: the people who decide it (``ledger.approvals.deciders``): her chair;
  for the chair's own loan or a group without a chair, a secretary, else the
  coordinator(s), else a treasurer. Nobody is told "sent to your chair" unless a
  chair receives it; when nobody could decide, the request is not made.
- a decision: the borrower (one text for SMS and USSD alike); on approval the
  treasurer(s) too, so the loan is paid out at the next meeting.
- a withdrawal or expiry: the borrower, with the reason.

Functions queue outbox rows in the caller's transaction (flush, never commit).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from groups.letters import letters_for
from groups.models import Coordinator, Group, Member, Membership, Role, Status
from groups.service import coordinators_of
from i18n import N_, Translator, translator
from ledger.approvals import Deciders, deciders
from ledger.models import Loan
from messaging.models import Priority
from messaging.outbox import queue_sms
from text.plain import Letters

#: Decider tier -> what the borrower is told after asking (USSD).
SENT_TO = {
    "chair": N_("Request {ref} is sent to your chair. You will get an SMS when she decides."),
    "officer": N_("Request {ref} is sent to your group's officers. You will get an SMS when they decide."),
    "coordinator": N_("Request {ref} is sent to your coordinator. You will get an SMS when she decides."),
}
NOBODY = N_("Nobody can decide a loan in your group yet: it has no chair and no coordinator. "
            "Ask your treasurer.")

#: Decline / cancel reasons offered on the USSD screen: code -> label (also the SMS words).
REASONS = {
    # TRANSLATORS: the group's locked cash box; not Kassa (the product's name): see the glossary.
    "cash": N_("Not enough money in the cash box"),
    "savings": N_("Savings too low for this loan"),
    "purpose": N_("Not for a business"),
    "meeting": N_("Talk to us at the meeting"),
}


def who_decides(session: Session, group: Group, borrower_id: int) -> Deciders:
    return deciders(session, group, borrower_id, has_coordinator=bool(coordinators_of(session, group)))


def _term(t: Translator, loan: Loan) -> str:
    if loan.unit == "week":
        return t.ngettext("{n} week", "{n} weeks", loan.term)
    return t.ngettext("{n} month", "{n} months", loan.term)


def tell_deciders(session: Session, group: Group, loan: Loan, borrower: Member, service_code: str) -> str:
    """Ask whoever decides ``loan``; the tier asked (``chair``, ``officer``, ``coordinator``, ``none``)."""
    found = who_decides(session, group, borrower.id)
    for person in found.members:
        t = translator(person.language)
        text = t.gettext("Kassa: {name} asks for loan {ref} of {amount} for {term}. Dial {code} to decide.",
                         name=borrower.name, ref=loan.ref, amount=t.money(loan.principal, group.currency),
                         term=_term(t, loan), code=service_code)
        queue_sms(session, to=person.phone, text=text, language=t.lang, kind="loan_request",
                  letters=letters_for(person, group), priority=Priority.NOTICE, member_id=person.id, group_id=group.id,
                  dedupe_key=f"loan_request:{loan.ref}:{person.id}")
    if found.tier == "coordinator":
        for coordinator in coordinators_of(session, group):
            tell_coordinator(session, group, loan, borrower, coordinator)
    return found.tier


def tell_coordinator(session: Session, group: Group, loan: Loan, borrower: Member, coordinator: Coordinator) -> None:
    t = translator(coordinator.language)
    # TRANSLATORS: SMS to an NGO coordinator; {group} is the group's short code; APPROVE and
    # DECLINE are SMS keywords, keep them.
    text = t.gettext("Kassa: {name} (group {group}) asks for loan {ref} of {amount}. Reply APPROVE {ref} "
                     "or DECLINE {ref}.", name=borrower.name, group=group.code, ref=loan.ref,
                     amount=t.money(loan.principal, group.currency))
    queue_sms(session, to=coordinator.phone, text=text, language=t.lang, kind="loan_request",
              letters=Letters.FULL, priority=Priority.NOTICE, group_id=group.id, dedupe_key=f"loan_request:{loan.ref}:c{coordinator.id}")


def _treasurers(session: Session, group: Group) -> list[Member]:
    return list(session.scalars(select(Member).join(Membership, Membership.member_id == Member.id).where(
        Membership.group_id == group.id, Membership.role == Role.TREASURER, Membership.status == Status.ACTIVE,
        Member.status == Status.ACTIVE).order_by(Membership.number)))


def reason_words(t: Translator, reason: str | None) -> str:
    """A reason code from the USSD list in ``t``'s language; free words (SMS) as written."""
    if not reason:
        return ""
    return t.gettext(REASONS[reason]) + "." if reason in REASONS else reason


def tell_decision(session: Session, group: Group, loan: Loan, borrower: Member, *, approve: bool,
                  reason: str | None = None, decided_by: int | None = None) -> None:
    """The borrower's one text; on approval, each treasurer (not the borrower, not the approver)."""
    t = translator(borrower.language)
    amount = t.money(loan.principal, group.currency)
    if approve:
        text = t.gettext("{group}: your loan request {loan} for {amount} is approved. The treasurer will "
                         "pay it out.", group=group.name, loan=loan.ref, amount=amount)
    else:
        text = t.gettext("{group}: your loan request {loan} for {amount} is not approved. {reason}",
                         group=group.name, loan=loan.ref, amount=amount, reason=reason_words(t, reason)).strip()
    queue_sms(session, to=borrower.phone, text=text, language=t.lang, kind="loan_decision",
              letters=letters_for(borrower, group), priority=Priority.REPLY, member_id=borrower.id, group_id=group.id,
              dedupe_key=f"loan_decision:{loan.ref}")
    if not approve:
        return
    for treasurer in _treasurers(session, group):
        if treasurer.id in (borrower.id, decided_by):
            continue
        tt = translator(treasurer.language)
        # TRANSLATORS: SMS to the treasurer; DISBURSE is the SMS keyword, keep it.
        note = tt.gettext("Kassa: loan {ref} of {amount} for {name} is approved. Pay it out at the meeting: "
                          "DISBURSE {ref}.", ref=loan.ref, amount=tt.money(loan.principal, group.currency),
                          name=borrower.name)
        queue_sms(session, to=treasurer.phone, text=note, language=tt.lang, kind="loan_decision",
                  letters=letters_for(treasurer, group), priority=Priority.NOTICE, member_id=treasurer.id, group_id=group.id,
                  dedupe_key=f"loan_payout:{loan.ref}:{treasurer.id}")


def tell_withdrawn(session: Session, group: Group, loan: Loan, borrower: Member, *, reason: str | None = None,
                   expired: bool = False) -> None:
    """The borrower hears that her approved loan is cancelled, or has expired."""
    t = translator(borrower.language)
    amount = t.money(loan.principal, group.currency)
    if expired:
        text = t.ngettext("{group}: your approved loan {loan} for {amount} has expired: it was not paid out "
                          "within {n} meeting. You may ask again.",
                          "{group}: your approved loan {loan} for {amount} has expired: it was not paid out "
                          "within {n} meetings. You may ask again.",
                          group.loan_expiry_meetings, group=group.name, loan=loan.ref, amount=amount)
    else:
        text = t.gettext("{group}: your approved loan {loan} for {amount} is cancelled. {reason}",
                         group=group.name, loan=loan.ref, amount=amount, reason=reason_words(t, reason)).strip()
    queue_sms(session, to=borrower.phone, text=text, language=t.lang, kind="loan_decision",
              letters=letters_for(borrower, group), priority=Priority.NOTICE, member_id=borrower.id, group_id=group.id,
              dedupe_key=f"loan_{'expired' if expired else 'cancelled'}:{loan.ref}")
