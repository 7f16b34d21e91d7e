"""Random weeks in a group's life, on SQLite and on PostgreSQL.

A Hypothesis state machine posts contributions, fines, loans (request,
decision, pay-out), repayments, reversals, replays of earlier keys, meeting
closes (with members marked absent), social-fund payouts (approved by the chair, or a grant by the
treasurer alone), cash to and from the bank, members leaving (paid their savings less what they owe)
and share-outs (loans repaid first, or deducted from the payout: a group rule) after which a new
cycle runs, in any order, with amounts that are sometimes against the rules. Alongside it keeps a tiny model: the cash
box and each member's savings. After every step:

- every transaction's legs sum to zero, every cached balance equals the sum
  of its legs, every loan's paid totals equal its repayment legs (``audit``);
- the trial balance sums to zero and the cash box is never negative;
- the cash box and each member's savings equal the model;
- a refused operation changed nothing; a replayed key changed nothing and
  answered the first receipt;
- a share-out paid each member exactly her savings plus her part of the
  profit less what she owed, the parts add up to the profit, the loans are
  settled, and the social fund stayed;
- a member who left was paid her savings less her loans, and has nothing left.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy.orm import Session

import ledger
from db import make_engine
from ledger import LedgerError
from ledger.books import group_today
from ledger.loans import open_loans
from ledger.models import LoanStatus
from ledger.shareout import owed_by_member
from tests.ledger_fixtures import make_books

settings.register_profile("ledger-stateful", max_examples=12, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
_codes = itertools.count(1)


@dataclasses.dataclass
class Effect:
    """What a posting did to the model: cash box change and savings changes per member."""

    cash: int
    savings: dict[int, int] = dataclasses.field(default_factory=dict)
    member: int | None = None


class GroupLife(RuleBasedStateMachine):
    url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.engine = make_engine(self.url)
        self.session = Session(self.engine)
        self.keys = itertools.count(1)
        self.cash = 0
        self.savings: dict[int, int] = {}
        self.effects: dict[str, Effect] = {}
        self.replays: list[tuple[Callable[[], Any], Any]] = []

    def teardown(self) -> None:
        self.session.rollback()
        self.session.close()
        self.engine.dispose()

    # -- helpers ----------------------------------------------------------------------
    def key(self) -> str:
        return f"{self.books.group.code}-{next(self.keys)}"

    def member(self, i: int) -> Any:
        return self.books.everyone[i % len(self.books.everyone)]

    def books_snapshot(self) -> list[ledger.TrialLine]:
        return ledger.trial_balance(self.session, self.books.group)

    def attempt(self, call: Callable[[], Any], replayable: bool = True) -> Any:
        """Run ``call``; a refusal must leave the books exactly as they were."""
        before = self.books_snapshot()
        try:
            result = call()
        except LedgerError:
            assert self.books_snapshot() == before
            return None
        if replayable:
            self.replays.append((call, result))
        return result

    def took_in(self, receipt: ledger.Receipt | None, saving: bool = False) -> None:
        if receipt is None:
            return
        mid = receipt.member_id
        effect = Effect(receipt.amount, {mid: receipt.amount} if saving and mid else {}, mid)
        self._apply(effect, +1)
        self.effects[receipt.ref] = effect

    def _apply(self, effect: Effect, sign: int) -> None:
        self.cash += sign * effect.cash
        for mid, amount in effect.savings.items():
            self.savings[mid] = self.savings.get(mid, 0) + sign * amount

    # -- the group ----------------------------------------------------------------------
    @initialize(kind=st.sampled_from(["shg", "vsla"]), flag=st.booleans(),
                by=st.sampled_from(["savings", "share_weeks"]),
                order=st.sampled_from(["charge_first", "principal_first"]),
                loans=st.sampled_from(["repay_first", "deduct"]), keep=st.sampled_from([0, 0, 10000]))
    def start(self, kind: str, flag: bool, by: str, order: str, loans: str, keep: int) -> None:
        self.books = make_books(self.session, f"H{next(_codes)}", kind, n_members=3,
                                off_rule_contribution="flag" if flag else "refuse",
                                share_out_by=by, repayment_order=order, shareout_loans=loans,
                                shareout_keep=keep)
        self.day = group_today(self.books.group) - dt.timedelta(weeks=300)

    @rule(who=st.integers(0, 4), shares=st.integers(0, 6), half=st.booleans())
    def save(self, who: int, shares: int, half: bool) -> None:
        g = self.books.group
        if g.kind == "vsla":
            kwargs: dict[str, Any] = {"shares": shares} if shares else {}
        else:
            kwargs = {"amount": g.saving_amount // 2} if half else {}
        k, m, d = self.key(), self.member(who), self.day
        r = self.attempt(lambda: ledger.record_saving(
            self.session, g, m, key=k, actor=self.books.treasurer, on=d, **kwargs))
        self.took_in(r, saving=True)

    @rule(who=st.integers(0, 4))
    def social(self, who: int) -> None:
        k, m, d = self.key(), self.member(who), self.day
        self.took_in(self.attempt(lambda: ledger.record_social(
            self.session, self.books.group, m, key=k, actor=self.books.treasurer, on=d)))

    @rule(who=st.integers(0, 4), fine_type=st.sampled_from(["late", "absent", "noise", None]),
          amount=st.sampled_from([None, 300, 1500]))
    def fine(self, who: int, fine_type: str | None, amount: int | None) -> None:
        k, m, d = self.key(), self.member(who), self.day
        self.took_in(self.attempt(lambda: ledger.record_fine(
            self.session, self.books.group, m, amount, fine_type=fine_type, key=k,
            actor=self.books.treasurer, on=d)))

    @rule(who=st.integers(0, 4), part=st.integers(1, 4), term=st.integers(1, 12),
          unit=st.sampled_from(["week", "month"]), approve=st.booleans())
    def borrow(self, who: int, part: int, term: int, unit: str, approve: bool) -> None:
        g, m = self.books.group, self.member(who)
        amount = ledger.loan_limit(self.session, g, m) * part // 4
        k1, k2, k3 = self.key(), self.key(), self.key()
        loan = self.attempt(lambda: ledger.request_loan(
            self.session, g, m, amount, purpose="trade", term=term, unit=unit, key=k1))
        if loan is None:
            return
        chair = self.books.chair
        decided = self.attempt(lambda: ledger.decide_loan(
            self.session, g, loan.ref, approve=approve, actor=chair, key=k2))
        if decided is None or not approve:
            return
        paid = self.attempt(lambda: ledger.disburse_loan(
            self.session, g, loan.ref, actor=self.books.treasurer, key=k3))
        if paid is not None:
            effect = Effect(-paid.amount, member=m.id)
            self._apply(effect, +1)
            self.effects[paid.ref] = effect

    @rule(who=st.integers(0, 4), amount=st.sampled_from([500, 5000, 20000, 10**6]))
    def repay(self, who: int, amount: int) -> None:
        k, m, d = self.key(), self.member(who), self.day
        self.took_in(self.attempt(lambda: ledger.record_repayment(
            self.session, self.books.group, m, amount, key=k, actor=self.books.treasurer, on=d)))

    @rule(who=st.integers(2, 4), amount=st.sampled_from([1000, 50000]))
    def help_from_social_fund(self, who: int, amount: int) -> None:
        k, m = self.key(), self.member(who)
        r = self.attempt(lambda: ledger.pay_social_fund(
            self.session, self.books.group, m, amount, reason="illness", key=k,
            actor=self.books.treasurer, approver=self.books.chair))
        if r is not None:
            effect = Effect(-r.amount)
            self._apply(effect, +1)
            self.effects[r.ref] = effect

    @rule(who=st.integers(0, 4), amount=st.sampled_from([1000, 50000]))
    def grant_from_social_fund(self, who: int, amount: int) -> None:
        """The SMS SOCIALPAY: the treasurer alone (never to herself)."""
        k, m = self.key(), self.member(who)
        r = self.attempt(lambda: ledger.pay_social_fund(
            self.session, self.books.group, m, amount, reason="funeral", key=k, actor=self.books.treasurer))
        if r is not None:
            assert m.id != self.books.treasurer.id
            effect = Effect(-r.amount, member=m.id)
            self._apply(effect, +1)
            self.effects[r.ref] = effect

    @rule(who=st.integers(2, 4), by_chair=st.booleans())
    def leave(self, who: int, by_chair: bool) -> None:
        g, m = self.books.group, self.member(who)
        owed = sum(loan.outstanding for loan in open_loans(self.session, g, m) if loan.status == LoanStatus.ACTIVE)
        k = self.key()
        actor = self.books.chair if by_chair else self.books.treasurer
        left = self.attempt(lambda: ledger.leave_group(self.session, g, m, key=k, actor=actor), replayable=False)
        if left is None:
            return
        assert (left.savings, left.deducted) == (self.savings.get(m.id, 0), owed)
        assert ledger.member_position(self.session, g, m).loan_outstanding == 0
        if left.ref is not None:
            self.replays.append((lambda: ledger.leave_group(self.session, g, m, key=k, actor=actor), left))
        self.cash -= left.paid
        self.savings[m.id] = 0
        self.effects = {ref: e for ref, e in self.effects.items() if e.member != m.id}  # her postings stay

    @rule(who=st.integers(0, 4))
    def absent(self, who: int) -> None:
        d = self.day
        self.attempt(lambda: ledger.mark_absent(self.session, self.books.group, [self.member(who)],
                                                actor=self.books.treasurer, on=d), replayable=False)

    @rule(amount=st.sampled_from([1000, 30000]), to=st.sampled_from(["bank", "cash"]))
    def bank(self, amount: int, to: str) -> None:
        k, d = self.key(), self.day
        r = self.attempt(lambda: ledger.move_cash(self.session, self.books.group, amount, to=to, key=k,
                                                  actor=self.books.treasurer, on=d))
        if r is not None:
            effect = Effect(-amount if to == "bank" else amount)
            self._apply(effect, +1)
            self.effects[r.ref] = effect

    @rule(pick=st.integers(0, 10**6))
    def undo(self, pick: int) -> None:
        if not self.effects:
            return
        ref = sorted(self.effects)[pick % len(self.effects)]
        k = self.key()
        r = self.attempt(lambda: ledger.reverse(
            self.session, self.books.group, ref, reason="mistake", key=k, actor=self.books.treasurer))
        if r is not None:
            self._apply(self.effects.pop(ref), -1)

    @rule(pick=st.integers(0, 10**6))
    def replay(self, pick: int) -> None:
        if not self.replays:
            return
        call, first = self.replays[pick % len(self.replays)]
        before = self.books_snapshot()
        again = call()
        assert self.books_snapshot() == before
        if isinstance(first, ledger.Receipt):
            assert again == dataclasses.replace(first, replayed=True)
        elif isinstance(first, ledger.Leaving):
            assert again == dataclasses.replace(first, replayed=True)
        elif isinstance(first, ledger.ShareOut):
            assert (again.ref, again.payouts, again.replayed) == (first.ref, first.payouts, True)
        else:  # a loan: the same loan comes back
            assert again.id == first.id

    @rule()
    def close_meeting(self) -> None:
        summary = ledger.close_with_attendance(self.session, self.books.group, actor=self.books.treasurer,
                                               on=self.day)
        assert summary.closed and summary.cash_box == self.cash and summary.came + len(summary.absent) == \
            summary.members
        self.day += dt.timedelta(weeks=1)

    @rule()
    def share_out(self) -> None:
        g = self.books.group
        banked = ledger.group_summary(self.session, g).bank
        if banked:  # a group brings the bank money to the share-out meeting
            self.bank(banked, "cash")
        savings = {mid: s for mid, s in self.savings.items() if s}
        summary = ledger.group_summary(self.session, g)
        owed = owed_by_member(self.session, g) if g.shareout_loans == "deduct" else {}
        k = self.key()
        out = self.attempt(lambda: ledger.share_out(
            self.session, g, key=k, actor=self.books.treasurer))
        if out is None:
            return
        profit = summary.service_charges + summary.fines + sum(charge for _, charge in owed.values())
        assert {p.member_id: p.savings for p in out.payouts} == savings
        assert {p.member_id: p.deducted for p in out.payouts if p.deducted} == {
            mid: sum(o) for mid, o in owed.items() if sum(o)}
        assert out.profit == profit and out.total == sum(savings.values()) + profit - sum(map(sum, owed.values()))
        assert all(p.profit >= 0 and p.total >= 0 for p in out.payouts)
        assert all(0 <= p.kept <= min(g.shareout_keep, p.total) for p in out.payouts)
        after = ledger.group_summary(self.session, g)
        assert (after.savings, after.service_charges, after.fines, after.loans_outstanding) == (out.kept, 0, 0, 0)
        assert after.social_fund == summary.social_fund == out.social_fund_carried
        assert after.cash_box == summary.cash_box - out.total + out.kept and after.cycle == summary.cycle + 1
        self.cash -= out.total - out.kept
        self.savings = {p.member_id: p.kept for p in out.payouts if p.kept}  # the float: the new cycle's first saving
        self.effects = {}  # the old cycle's postings can no longer be reversed

    # -- after every step ------------------------------------------------------------
    @invariant()
    def books_are_sound(self) -> None:
        if not hasattr(self, "books"):
            return
        g = self.books.group
        assert ledger.audit(self.session, g) == []
        lines = ledger.trial_balance(self.session, g)
        assert sum(line.balance for line in lines) == 0
        summary = ledger.group_summary(self.session, g)
        assert summary.cash_box >= 0 and summary.cash_box == self.cash
        for m in self.books.everyone:
            assert ledger.member_position(self.session, g, m).savings == self.savings.get(m.id, 0)


@pytest.mark.slow
def test_random_weeks_keep_the_books_sound(db_url: str) -> None:
    GroupLife.url = db_url
    run_state_machine_as_test(GroupLife, settings=settings.get_profile("ledger-stateful"))
