"""The ledger as worked examples: each test is a small piece of a group's bookkeeping.

Sign convention under test: legs are debit-positive; a member's savings sit on
her savings account as a credit (negative signed balance) and read as positive.
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

import ledger
from i18n import translator
from ledger import LedgerError
from ledger.books import group_today
from ledger.models import Account, Line, Loan, Txn
from tests.ledger_fixtures import MONDAY, key, make_books

if TYPE_CHECKING:
    from flask.testing import FlaskCliRunner
    from ledger.receipts import Receipt
    from sqlalchemy.orm import Session

    from groups.models import Group, Member
    from services import Services
    from tests.ledger_fixtures import Books


@pytest.fixture
def shg(session: Session) -> Books:
    """An SHG saving KES 200 a week, social fund 50, fines late 20 / absent 50."""
    return make_books(session, "SHG1", "shg")


@pytest.fixture
def vsla(session: Session) -> Books:
    """A VSLA with shares of KES 50 (1 to 5 per meeting), social fund 10."""
    return make_books(session, "VSLA1", "vsla")


def legs_of(session: Session, ref: str) -> list[tuple[str, int]]:
    txn = session.get_one(Txn, int(ref[1:]))
    accounts = {a.id: a.label for a in session.scalars(select(Account))}
    return sorted((accounts[line.account_id], line.amount) for line in txn.lines)


def sound(session: Session, group: Group) -> None:
    assert ledger.audit(session, group) == []
    assert sum(line.balance for line in ledger.trial_balance(session, group)) == 0


def code_of(excinfo: pytest.ExceptionInfo[LedgerError]) -> str:
    return excinfo.value.code


# -- savings ----------------------------------------------------------------------

def test_shg_saving_debits_cash_and_credits_her_savings(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    r = ledger.record_saving(session, g, m, amount=20000, key="sms-1", actor=t, on=MONDAY)
    assert (r.kind, r.amount, r.balance, r.replayed, r.member_id) == ("saving", 20000, 20000, False, m.id)
    assert r.ref.startswith("R") and r.on == MONDAY
    assert legs_of(session, r.ref) == sorted([("cash", 20000), (f"savings:{m.id}", -20000)])
    sound(session, g)


def test_rule_amount_applies_when_none_is_given(session: Session, shg: Books) -> None:
    r = ledger.record_saving(session, shg.group, shg.members[0], key=key(), actor=shg.treasurer, on=MONDAY)
    assert r.amount == 20000


def test_same_key_again_returns_the_first_receipt_and_changes_nothing(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    first = ledger.record_saving(session, g, m, amount=20000, key="sms-7", actor=t, on=MONDAY)
    lines = session.scalar(select(func.count(Line.id)))
    again = ledger.record_saving(session, g, m, amount=20000, key="sms-7", actor=t, on=MONDAY)
    assert again == first.__class__(**{**first.__dict__, "replayed": True})
    assert session.scalar(select(func.count(Line.id))) == lines
    assert ledger.member_position(session, g, m, MONDAY).savings == 20000


def test_a_replay_still_answers_after_the_meeting_closed(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    first = ledger.record_saving(session, g, m, amount=20000, key="sms-8", actor=t, on=MONDAY)
    ledger.close_meeting(session, g, actor=t, on=MONDAY)
    assert ledger.record_saving(session, g, m, amount=20000, key="sms-8", actor=t, on=MONDAY).ref == first.ref


def test_off_rule_saving_is_refused_or_flagged_as_the_group_chooses(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    with pytest.raises(LedgerError) as e:
        ledger.record_saving(session, g, m, amount=15000, key=key(), actor=t, on=MONDAY)
    assert code_of(e) == "off_rule" and e.value.params == {"amount": 15000, "expected": 20000}
    assert session.scalar(select(func.count(Txn.id))) == 0
    g.off_rule_contribution = "flag"
    r = ledger.record_saving(session, g, m, amount=15000, key=key(), actor=t, on=MONDAY)
    assert r.flagged and r.balance == 15000


def test_second_saving_at_one_meeting_is_above_the_rule(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    ledger.record_saving(session, g, m, amount=20000, key=key(), actor=t, on=MONDAY)
    with pytest.raises(LedgerError, match="off_rule"):
        ledger.record_saving(session, g, m, amount=20000, key=key(), actor=t, on=MONDAY)
    r = ledger.record_saving(session, g, m, amount=20000, key=key(), actor=t, on=MONDAY - dt.timedelta(7))
    assert r.balance == 40000


def test_vsla_buys_shares_at_the_cycles_share_value(session: Session, vsla: Books) -> None:
    g, t, m = vsla.group, vsla.treasurer, vsla.members[0]
    r = ledger.record_saving(session, g, m, shares=3, key=key(), actor=t, on=MONDAY)
    assert (r.amount, r.shares, r.balance) == (15000, 3, 15000)
    r2 = ledger.record_saving(session, g, m, amount=10000, key=key(), actor=t, on=MONDAY)
    assert r2.shares == 2
    assert ledger.member_position(session, g, m, MONDAY).shares == 5


@pytest.mark.parametrize("kwargs, code", [
    ({"amount": 7000}, "not_whole_shares"),
    ({"shares": 6}, "off_rule"),
    ({"shares": 0}, "not_positive"),
    ({"shares": 2, "amount": 5000}, "off_rule"),
])
def test_vsla_refuses_what_is_not_1_to_5_whole_shares(
        session: Session, vsla: Books, kwargs: dict[str, int], code: str) -> None:
    with pytest.raises(LedgerError) as e:
        ledger.record_saving(session, vsla.group, vsla.members[0], key=key(), actor=vsla.treasurer,
                             on=MONDAY, **kwargs)
    assert code_of(e) == code


def test_vsla_six_shares_over_two_postings_is_off_rule(session: Session, vsla: Books) -> None:
    g, t, m = vsla.group, vsla.treasurer, vsla.members[0]
    ledger.record_saving(session, g, m, shares=3, key=key(), actor=t, on=MONDAY)
    with pytest.raises(LedgerError, match="off_rule"):
        ledger.record_saving(session, g, m, shares=3, key=key(), actor=t, on=MONDAY)


# -- social fund and fines ----------------------------------------------------------

def test_social_fund_and_fines_go_to_their_accounts(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    social = ledger.record_social(session, g, m, key=key(), actor=t, on=MONDAY)
    fine = ledger.record_fine(session, g, m, fine_type="LATE", key=key(), actor=t, on=MONDAY)
    custom = ledger.record_fine(session, g, m, 1500, key=key(), actor=t, on=MONDAY)
    assert (social.amount, social.balance) == (5000, 5000)
    assert (fine.amount, fine.balance, custom.balance) == (2000, 2000, 3500)
    assert legs_of(session, fine.ref) == sorted([("cash", 2000), ("fines", -2000)])
    pos = ledger.member_position(session, g, m, MONDAY)
    assert (pos.social_paid, pos.fines_paid, pos.savings) == (5000, 3500, 0)
    sound(session, g)


def test_unknown_fine_type_names_the_known_ones(session: Session, shg: Books) -> None:
    with pytest.raises(LedgerError) as e:
        ledger.record_fine(session, shg.group, shg.members[0], fine_type="noisy", key=key(),
                           actor=shg.treasurer, on=MONDAY)
    assert code_of(e) == "unknown_fine" and e.value.params["known"] == "late, absent"  # the group's order


def test_social_fund_payout_needs_the_chair_and_what_the_fund_holds(session: Session, shg: Books) -> None:
    g, t, c, m = shg.group, shg.treasurer, shg.chair, shg.members[0]
    for who in shg.everyone:
        ledger.record_social(session, g, who, key=key(), actor=t, on=MONDAY)
    ledger.record_saving(session, g, m, key=key(), actor=t, on=MONDAY)  # the box holds more than the fund
    with pytest.raises(LedgerError, match="not_allowed"):
        ledger.pay_social_fund(session, g, m, 10000, reason="funeral", key=key(), actor=t, approver=m)
    with pytest.raises(LedgerError, match="social_fund_short"):
        ledger.pay_social_fund(session, g, m, 30000, reason="funeral", key=key(), actor=t, approver=c)
    with pytest.raises(LedgerError, match="self_approval"):
        ledger.pay_social_fund(session, g, c, 1000, reason="illness", key=key(), actor=t, approver=c)
    r = ledger.pay_social_fund(session, g, m, 10000, reason="funeral", key=key(), actor=t, approver=c)
    assert (r.kind, r.balance) == ("social_payout", 15000)
    sound(session, g)


# -- who may post ----------------------------------------------------------------------

def test_only_the_treasurer_posts_and_only_for_members(session: Session, shg: Books) -> None:
    g, m = shg.group, shg.members[0]
    with pytest.raises(LedgerError, match="not_allowed"):
        ledger.record_saving(session, g, m, amount=20000, key=key(), actor=shg.chair, on=MONDAY)
    other = make_books(session, "OTHER1", "shg")
    with pytest.raises(LedgerError, match="not_member"):
        ledger.record_saving(session, g, other.members[0], amount=20000, key=key(), actor=shg.treasurer)
    with pytest.raises(LedgerError, match="not_allowed"):
        ledger.record_saving(session, g, m, amount=20000, key=key(), actor=other.treasurer)


def test_a_key_used_in_another_group_is_refused(session: Session, shg: Books) -> None:
    other = make_books(session, "OTHER2", "shg")
    ledger.record_saving(session, other.group, other.members[0], key="dup", actor=other.treasurer, on=MONDAY)
    with pytest.raises(LedgerError, match="key_reused"):
        ledger.record_saving(session, shg.group, shg.members[0], key="dup", actor=shg.treasurer, on=MONDAY)


@pytest.mark.parametrize("amount", [0, -500, 10.5, True])
def test_amounts_must_be_positive_integers(session: Session, shg: Books, amount: int | float) -> None:
    with pytest.raises(LedgerError, match="not_positive"):
        ledger.record_fine(session, shg.group, shg.members[0], amount, key=key(), actor=shg.treasurer)  # type: ignore[arg-type]  # the point


# -- meetings and corrections ------------------------------------------------------------

def test_closed_meeting_takes_no_posting_but_takes_a_reversal(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    r = ledger.record_saving(session, g, m, amount=20000, key=key(), actor=t, on=MONDAY)
    closed = ledger.close_meeting(session, g, actor=t, on=MONDAY)
    assert closed.closed and ledger.close_meeting(session, g, actor=t, on=MONDAY).id == closed.id
    with pytest.raises(LedgerError) as e:
        ledger.record_fine(session, g, m, fine_type="late", key=key(), actor=t, on=MONDAY)
    assert code_of(e) == "meeting_closed" and e.value.params["date"] == MONDAY
    assert "23" in e.value.render(translator("en"), "KES")
    undo = ledger.reverse(session, g, r.ref, reason="wrong member", key=key(), actor=t)
    assert (undo.kind, undo.balance, undo.reverses) == ("reversal", 0, r.ref)
    with pytest.raises(LedgerError, match="meeting_closed"):
        ledger.open_meeting(session, g, MONDAY)


def test_a_meeting_still_to_come_takes_no_posting(session: Session, shg: Books) -> None:
    tomorrow = group_today(shg.group) + dt.timedelta(days=1)
    with pytest.raises(LedgerError) as e:
        ledger.record_saving(session, shg.group, shg.members[0], key=key(), actor=shg.treasurer, on=tomorrow)
    assert code_of(e) == "future_date" and session.scalar(select(func.count(Txn.id))) == 0


def test_reversal_mirrors_every_leg_and_is_final(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    r = ledger.record_saving(session, g, m, amount=20000, key=key(), actor=t, on=MONDAY)
    undo = ledger.reverse(session, g, r.ref.lower(), reason="typo", key="undo-1", actor=t)
    assert legs_of(session, undo.ref) == sorted((acct, -amount) for acct, amount in legs_of(session, r.ref))
    original = session.get_one(Txn, int(r.ref[1:]))
    assert original.reversed and original.amount == 20000  # marked, never edited
    assert ledger.reverse(session, g, r.ref, reason="typo", key="undo-1", actor=t).replayed
    with pytest.raises(LedgerError, match="already_reversed"):
        ledger.reverse(session, g, r.ref, reason="again", key=key(), actor=t)
    with pytest.raises(LedgerError, match="cannot_reverse"):
        ledger.reverse(session, g, undo.ref, reason="undo the undo", key=key(), actor=t)
    with pytest.raises(LedgerError, match="unknown_receipt"):
        ledger.reverse(session, g, "R999999", reason="?", key=key(), actor=t)
    assert [(e.kind, e.reversed) for e in ledger.mini_statement(session, g, m)] == [
        ("reversal", False), ("saving", True)]
    sound(session, g)


def test_savings_that_are_lent_out_cannot_be_taken_back(session: Session, shg: Books) -> None:
    g, t, c, m = shg.group, shg.treasurer, shg.chair, shg.members[0]
    r = ledger.record_saving(session, g, m, amount=20000, key=key(), actor=t)
    loan = ledger.request_loan(session, g, m, 20000, purpose="trade", term=4, unit="week", key=key())
    ledger.decide_loan(session, g, loan.ref, approve=True, actor=c, key=key())
    ledger.disburse_loan(session, g, loan.ref, actor=t, key=key())
    with pytest.raises(LedgerError) as e:
        ledger.reverse(session, g, r.ref, reason="typo", key=key(), actor=t)
    assert code_of(e) == "cash_box_short" and e.value.params == {"amount": 20000, "cash": 0}


# -- loans ------------------------------------------------------------------------------

def test_quote_flat_charge_and_schedule_whose_last_instalment_absorbs_rounding(shg: Books) -> None:
    shg.group.service_charge_bp = 1000
    q = ledger.quote_loan(shg.group, 100000, 3, "month", start=dt.date(2026, 1, 31))  # VSLA-like 10%
    assert (q.charge, q.total) == (30000, 130000)
    assert [i.on for i in q.schedule] == [dt.date(2026, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 4, 30)]
    assert [i.amount for i in q.schedule] == [43333, 43333, 43334]
    weekly = ledger.quote_loan(shg.group, 100000, 12, "week", start=MONDAY)
    assert weekly.charge == 30000 and sum(i.amount for i in weekly.schedule) == 130000
    assert weekly.schedule[0].on == MONDAY + dt.timedelta(weeks=1) and weekly.instalment == 10833
    with pytest.raises(LedgerError, match="bad_term"):
        ledger.quote_loan(shg.group, 100000, 13, "month")


def _saved(session: Session, books: Books, member: Member, weeks: int = 1) -> None:
    for w in range(weeks):
        ledger.record_saving(session, books.group, member, key=key(), actor=books.treasurer,
                             on=group_today(books.group) - dt.timedelta(weeks=weeks - 1 - w))


def test_loan_limit_is_three_times_savings_and_one_loan_at_a_time(session: Session, shg: Books) -> None:
    g, m = shg.group, shg.members[0]
    _saved(session, shg, m, weeks=2)
    assert ledger.loan_limit(session, g, m) == 120000
    with pytest.raises(LedgerError) as e:
        ledger.request_loan(session, g, m, 120001, purpose="trade", term=8, unit="week", key=key())
    assert code_of(e) == "over_limit" and e.value.params["limit"] == 120000
    with pytest.raises(LedgerError, match="bad_purpose"):
        ledger.request_loan(session, g, m, 1000, purpose="wedding", term=8, unit="week", key=key())
    loan = ledger.request_loan(session, g, m, 50000, purpose="trade", term=8, unit="week", key="ask-1")
    assert ledger.request_loan(session, g, m, 50000, purpose="trade", term=8, unit="week", key="ask-1").id == loan.id
    assert ledger.loan_limit(session, g, m) == 0
    with pytest.raises(LedgerError, match="active_loan"):
        ledger.request_loan(session, g, m, 1000, purpose="trade", term=8, unit="week", key=key())
    assert [x.ref for x in ledger.pending_loans(session, g)] == [loan.ref]


def test_maker_checker_only_the_chair_decides_and_never_her_own(session: Session, shg: Books) -> None:
    g, t, c, m = shg.group, shg.treasurer, shg.chair, shg.members[0]
    for who in (c, m):
        _saved(session, shg, who)
    mine = ledger.request_loan(session, g, c, 10000, purpose="farm", term=4, unit="week", key=key())
    hers = ledger.request_loan(session, g, m, 10000, purpose="farm", term=4, unit="week", key=key())
    with pytest.raises(LedgerError, match="own_loan"):
        ledger.decide_loan(session, g, mine.ref, approve=True, actor=c, key=key())
    for actor in (t, m):
        with pytest.raises(LedgerError, match="not_allowed"):
            ledger.decide_loan(session, g, hers.ref, approve=True, actor=actor, key=key())
    with pytest.raises(LedgerError, match="loan_state"):
        ledger.disburse_loan(session, g, hers.ref, actor=t, key=key())
    decided = ledger.decide_loan(session, g, hers.ref, approve=False, actor=c, reason="too soon", key="d-1")
    assert decided.status == ledger.LoanStatus.DECLINED and decided.decline_reason == "too soon"
    assert ledger.decide_loan(session, g, hers.ref, approve=True, actor=c, key="d-1").status == "declined"
    with pytest.raises(LedgerError, match="loan_state"):
        ledger.decide_loan(session, g, hers.ref, approve=True, actor=c, key=key())
    with pytest.raises(LedgerError, match="unknown_loan"):
        ledger.decide_loan(session, g, "L99999", approve=True, actor=c, key=key())


def test_treasurer_cannot_pay_out_her_own_loan(session: Session, shg: Books) -> None:
    g, t, c = shg.group, shg.treasurer, shg.chair
    _saved(session, shg, t)
    loan = ledger.request_loan(session, g, t, 10000, purpose="farm", term=4, unit="week", key=key())
    ledger.decide_loan(session, g, loan.ref, approve=True, actor=c, key=key())
    with pytest.raises(LedgerError, match="own_loan"):
        ledger.disburse_loan(session, g, loan.ref, actor=t, key=key())


def _active_loan(session: Session, books: Books, member: Member, amount: int = 50000, term: int = 4, unit: str = "week",
                 save_weeks: int = 1) -> tuple[Loan, Receipt]:
    _saved(session, books, member, weeks=save_weeks)
    loan = ledger.request_loan(session, books.group, member, amount, purpose="trade", term=term, unit=unit,
                               key=key())
    ledger.decide_loan(session, books.group, loan.ref, approve=True, actor=books.chair, key=key())
    return loan, ledger.disburse_loan(session, books.group, loan.ref, actor=books.treasurer, key=key())


def test_pay_out_never_exceeds_the_cash_box(session: Session, shg: Books) -> None:
    g, t, c, m = shg.group, shg.treasurer, shg.chair, shg.members[0]
    _saved(session, shg, m, weeks=2)  # 40000 in the box, limit 120000
    loan = ledger.request_loan(session, g, m, 50000, purpose="trade", term=4, unit="week", key=key())
    ledger.decide_loan(session, g, loan.ref, approve=True, actor=c, key=key())
    with pytest.raises(LedgerError) as e:
        ledger.disburse_loan(session, g, loan.ref, actor=t, key=key())
    assert code_of(e) == "cash_box_short" and e.value.params == {"amount": 50000, "cash": 40000}
    assert session.get_one(Loan, loan.id).status == ledger.LoanStatus.APPROVED


def test_pay_out_and_repayments_charge_first_until_closed(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    _saved(session, shg, shg.members[1], weeks=3)
    loan, paid = _active_loan(session, shg, m, amount=40000, term=4, unit="week", save_weeks=1)
    # SHG default 2% per month: 4 weeks = 1 month -> 800 charge
    assert (loan.charge, paid.kind, paid.balance, paid.loan_ref) == (800, "disbursement", 40800, loan.ref)
    assert legs_of(session, paid.ref) == sorted([("cash", -40000), (f"loans:{m.id}", 40000)])
    r1 = ledger.record_repayment(session, g, m, 10200, key=key(), actor=t)
    assert legs_of(session, r1.ref) == sorted([("cash", 10200), ("charges", -800), (f"loans:{m.id}", -9400)])
    assert r1.balance == 30600
    with pytest.raises(LedgerError) as e:
        ledger.record_repayment(session, g, m, 30601, key=key(), actor=t)
    assert code_of(e) == "over_repayment" and e.value.params["outstanding"] == 30600
    last = ledger.record_repayment(session, g, m, 30600, key=key(), actor=t)
    assert last.balance == 0 and session.get_one(Loan, loan.id).status == ledger.LoanStatus.CLOSED
    with pytest.raises(LedgerError, match="no_loan"):
        ledger.record_repayment(session, g, m, 100, key=key(), actor=t)
    undo = ledger.reverse(session, g, last.ref, reason="counted twice", key=key(), actor=t)
    assert undo.balance == 30600 and session.get_one(Loan, loan.id).status == ledger.LoanStatus.ACTIVE
    sound(session, g)


def test_principal_first_when_the_group_says_so(session: Session, shg: Books) -> None:
    shg.group.repayment_order = "principal_first"
    _saved(session, shg, shg.members[1], weeks=3)
    _, _ = _active_loan(session, shg, shg.members[0], amount=40000)
    r = ledger.record_repayment(session, shg.group, shg.members[0], 40500, key=key(), actor=shg.treasurer)
    assert ("charges", -500) in legs_of(session, r.ref)


def test_pay_out_is_reversible_only_before_repayments(session: Session, shg: Books) -> None:
    g, t, m = shg.group, shg.treasurer, shg.members[0]
    _saved(session, shg, shg.members[1], weeks=3)
    loan, paid = _active_loan(session, shg, m, amount=40000)
    ledger.reverse(session, g, paid.ref, reason="paid to the wrong person", key=key(), actor=t)
    assert session.get_one(Loan, loan.id).status == ledger.LoanStatus.APPROVED
    again = ledger.disburse_loan(session, g, loan.ref, actor=t, key=key())
    ledger.record_repayment(session, g, m, 1000, key=key(), actor=t)
    with pytest.raises(LedgerError, match="loan_has_repayments"):
        ledger.reverse(session, g, again.ref, reason="?", key=key(), actor=t)
    sound(session, g)


# -- queries ------------------------------------------------------------------------------

def test_position_shows_next_instalment_and_days_past_due(session: Session, shg: Books) -> None:
    g, m = shg.group, shg.members[0]
    _saved(session, shg, shg.members[1], weeks=3)
    loan, _ = _active_loan(session, shg, m, amount=40000, term=4, unit="week")
    today = group_today(g)
    pos = ledger.member_position(session, g, m, today)
    assert (pos.savings, pos.loan_outstanding, pos.loan_principal, pos.loan_ref) == (20000, 40800, 40000, loan.ref)
    assert pos.next_instalment == ledger.Due(10200, today + dt.timedelta(weeks=1))
    amount, on = pos.next_instalment  # (amount, date), as the contract orders it
    assert (amount, on) == (10200, today + dt.timedelta(weeks=1))
    assert (pos.days_past_due, pos.overdue) == (0, False)
    late = ledger.member_position(session, g, m, today + dt.timedelta(weeks=1, days=3))
    assert (late.days_past_due, late.overdue) == (3, True)
    meet = ledger.member_position(session, g, m, today + dt.timedelta(weeks=1, days=1))
    assert meet.next_meeting.weekday() == g.meeting_weekday
    assert meet.due_next_meeting == 20000 + 5000 + (20400 if meet.next_meeting >= today + dt.timedelta(weeks=2)
                                                      else 10200)


def test_group_summary_par30_and_repayment_rate(session: Session, shg: Books) -> None:
    g, t = shg.group, shg.treasurer
    _saved(session, shg, shg.chair, weeks=4)
    a, _ = _active_loan(session, shg, shg.members[0], amount=40000, term=4, unit="week")
    b, _ = _active_loan(session, shg, shg.members[1], amount=20000, term=4, unit="week")
    ledger.record_repayment(session, g, shg.members[1], 20400, key=key(), actor=t)  # b fully repaid
    today = group_today(g)
    s = ledger.group_summary(session, g, today + dt.timedelta(days=60))
    assert (s.loans_outstanding, s.active_loans, s.overdue_loans) == (40000, 1, 1)
    assert s.par30_bp == 10000  # a's first instalment is 53 days late
    assert s.repayment_rate_bp == 20400 * 10000 // (40800 + 20400)
    assert (s.savings, s.cash_box + s.loans_outstanding) == (120000, s.savings + s.service_charges)
    fresh = ledger.group_summary(session, g, today)
    assert (fresh.par30_bp, fresh.repayment_rate_bp) == (0, 10000)


def test_meeting_sheet_shows_who_paid_what(session: Session, shg: Books) -> None:
    g, t = shg.group, shg.treasurer
    m1, m2 = shg.members[0], shg.members[1]
    ledger.record_saving(session, g, m1, key=key(), actor=t, on=MONDAY)
    ledger.record_social(session, g, m1, key=key(), actor=t, on=MONDAY)
    r = ledger.record_saving(session, g, m2, key=key(), actor=t, on=MONDAY)
    ledger.reverse(session, g, r.ref, reason="not yet paid", key=key(), actor=t)
    sheet = ledger.meeting_sheet(session, g, MONDAY)
    rows = {row.member_id: row for row in sheet.rows}
    assert (rows[m1.id].saved, rows[m1.id].social, rows[m2.id].saved) == (20000, 5000, 0)
    assert sheet.paid_in == 25000 and sheet.cash_box == 25000 and not sheet.closed
    assert {row.member_id for row in sheet.missing} == {t.id, shg.chair.id, m2.id, shg.members[2].id}


# -- share-out ----------------------------------------------------------------------------

def test_share_out_pays_savings_plus_profit_to_the_cent(session: Session, shg: Books) -> None:
    g, t = shg.group, shg.treasurer
    for who in shg.members:
        ledger.record_saving(session, g, who, key=key(), actor=t, on=MONDAY)
        ledger.record_social(session, g, who, key=key(), actor=t, on=MONDAY)
    ledger.record_fine(session, g, shg.members[0], 100, key=key(), actor=t, on=MONDAY)
    with pytest.raises(LedgerError, match="not_allowed"):
        ledger.share_out(session, g, key=key(), actor=shg.members[0])
    out = ledger.share_out(session, g, key="so-1", actor=t)
    assert [(p.savings, p.profit) for p in out.payouts] == [(20000, 34), (20000, 33), (20000, 33)]
    assert (out.total, out.profit, out.cycle, out.social_fund_carried) == (60100, 100, 1, 15000)
    assert ledger.share_out(session, g, key="so-1", actor=t) == out.__class__(**{**out.__dict__, "replayed": True})
    s = ledger.group_summary(session, g, MONDAY)
    assert (s.cycle, s.savings, s.fines, s.cash_box, s.social_fund) == (2, 0, 0, 15000, 15000)
    with pytest.raises(LedgerError, match="nothing_to_share"):
        ledger.share_out(session, g, key=key(), actor=t)
    sound(session, g)


def test_share_out_waits_for_every_loan(session: Session, shg: Books) -> None:
    _saved(session, shg, shg.members[1], weeks=3)
    _active_loan(session, shg, shg.members[0], amount=40000)
    with pytest.raises(LedgerError, match="loans_outstanding"):
        ledger.share_out(session, shg.group, key=key(), actor=shg.treasurer)


def test_share_weeks_reward_early_savings(session: Session, shg: Books) -> None:
    g, t = shg.group, shg.treasurer
    g.share_out_by = "share_weeks"
    today = group_today(g)
    ledger.record_saving(session, g, shg.members[0], key=key(), actor=t, on=today - dt.timedelta(weeks=3))
    ledger.record_saving(session, g, shg.members[1], key=key(), actor=t, on=today)
    ledger.record_fine(session, g, shg.members[2], 5000, key=key(), actor=t, on=today)
    out = ledger.share_out(session, g, key=key(), actor=t)
    assert [(p.member_id, p.profit) for p in out.payouts] == [(shg.members[0].id, 4000), (shg.members[1].id, 1000)]


# -- what the database itself refuses --------------------------------------------------------

def test_database_refuses_a_zero_leg_and_an_edited_leg(session: Session, shg: Books) -> None:
    r = ledger.record_saving(session, shg.group, shg.members[0], key=key(), actor=shg.treasurer, on=MONDAY)
    txn_id = int(r.ref[1:])
    cash = session.scalar(select(Account.id).where(Account.code == "cash"))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Line(txn_id=txn_id, account_id=cash, amount=0))
        session.flush()
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(text("UPDATE ledger_lines SET amount = amount * 2 WHERE txn_id = :t"), {"t": txn_id})
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text("UPDATE ledger_accounts SET balance = -1 WHERE code = 'cash'"))


def test_postgres_refuses_an_unbalanced_transaction_at_commit(
        services: Services, shg: Books, session: Session) -> None:
    if services.db.is_sqlite:
        pytest.skip("the deferred balance trigger is PostgreSQL's; SQLite relies on the posting function")
    r = ledger.record_saving(session, shg.group, shg.members[0], key=key(), actor=shg.treasurer, on=MONDAY)
    cash = session.scalar(select(Account.id).where(Account.code == "cash"))
    session.add(Line(txn_id=int(r.ref[1:]), account_id=cash, amount=1))
    session.flush()  # deferred: accepted until commit
    with pytest.raises(IntegrityError, match="does not balance"):
        session.commit()


# -- words ------------------------------------------------------------------------------------

def test_errors_render_in_the_readers_language_with_money(session: Session, shg: Books) -> None:
    with pytest.raises(LedgerError) as e:
        ledger.record_saving(session, shg.group, shg.members[0], amount=15000, key=key(), actor=shg.treasurer)
    en = e.value.render(translator("en"), "KES")
    az = e.value.render(translator("az"), "AZN")
    assert "150" in en and "200" in en and "{" not in en
    assert "{" not in az and az != en


def test_every_amount_error_reason_has_a_message() -> None:
    reasons = set()
    for text_ in ["", "abc", "1.234", "-5", "0", "9" * 20]:
        try:
            ledger.parse_amount(text_, "KES")
        except ledger.AmountError as err:
            reasons.add(err.reason)
    assert reasons <= set(ledger.AMOUNT_MESSAGES) and len(reasons) >= 4


def test_ledger_imports_neither_flask_nor_a_provider_sdk() -> None:
    code = ("import sys, ledger, ledger.shareout, ledger.corrections; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'africastalking', 'twilio', 'rq')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_reading_a_new_groups_books_writes_nothing(session: Session, vsla: Books) -> None:
    g, m = vsla.group, vsla.members[0]
    pos = ledger.member_position(session, g, m, MONDAY)
    assert (pos.savings, pos.shares, pos.loan_outstanding, pos.next_instalment) == (0, 0, 0, None)
    assert pos.due_next_meeting == 5000 + 1000  # one share and the social fund
    summary = ledger.group_summary(session, g, MONDAY)
    assert (summary.cycle, summary.cash_box, summary.par30_bp) == (1, 0, 0)
    assert ledger.mini_statement(session, g, m) == [] and ledger.trial_balance(session, g) == []
    from ledger.models import Cycle, Meeting
    assert session.scalar(select(func.count(Cycle.id))) == 0
    assert session.scalar(select(func.count(Meeting.id))) == 0


def test_cash_goes_to_the_bank_and_back_never_more_than_there_is(session: Session, shg: Books) -> None:
    g, t = shg.group, shg.treasurer
    for who in shg.members:
        ledger.record_saving(session, g, who, key=key(), actor=t, on=MONDAY)
    r = ledger.move_cash(session, g, 50000, to="bank", key=key(), actor=t, on=MONDAY)
    assert (r.kind, r.balance) == ("transfer", 10000)
    assert legs_of(session, r.ref) == sorted([("bank", 50000), ("cash", -50000)])
    with pytest.raises(LedgerError, match="cash_box_short"):
        ledger.move_cash(session, g, 10001, to="bank", key=key(), actor=t, on=MONDAY)
    with pytest.raises(LedgerError, match="bank_short"):
        ledger.move_cash(session, g, 50001, to="cash", key=key(), actor=t, on=MONDAY)
    with pytest.raises(LedgerError, match="not_allowed"):
        ledger.move_cash(session, g, 100, to="cash", key=key(), actor=shg.chair, on=MONDAY)
    back = ledger.move_cash(session, g, 20000, to="cash", key=key(), actor=t, on=MONDAY)
    undo = ledger.reverse(session, g, back.ref, reason="counted wrong", key=key(), actor=t)
    assert undo.balance == 10000  # the cash box after the correction
    back = ledger.move_cash(session, g, 20000, to="cash", key=key(), actor=t, on=MONDAY)
    s = ledger.group_summary(session, g, MONDAY)
    assert (back.balance, s.cash_box, s.bank, s.savings) == (30000, 30000, 30000, 60000)
    sound(session, g)


def test_cli_reads_the_books(runner: FlaskCliRunner, services: Services) -> None:
    with services.db.transaction() as s:
        books = make_books(s, "CLI1", "shg")
        for who in books.members:
            ledger.record_saving(s, books.group, who, key=key(), actor=books.treasurer)
        phone = books.members[0].phone
    out = runner.invoke(args=["ledger", "summary", "CLI1"])
    assert out.exit_code == 0 and "cash box" in out.output and "600" in out.output, out.output
    out = runner.invoke(args=["ledger", "statement", "CLI1", phone])
    assert out.exit_code == 0 and "Savings" in out.output, out.output
    out = runner.invoke(args=["ledger", "trial", "CLI1"])
    assert out.exit_code == 0 and out.output.strip().endswith("0"), out.output
    out = runner.invoke(args=["ledger", "audit", "CLI1"])
    assert out.exit_code == 0 and "sound" in out.output
    assert runner.invoke(args=["ledger", "summary", "NOPE"]).exit_code != 0
