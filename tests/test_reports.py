"""The dashboard's aggregates equal the ledger's own summary, on SQLite and on PostgreSQL.

A Hypothesis state machine runs two groups (an SHG in one region, a VSLA in
another currency and region) through random postings (savings, social fund,
fines, loans asked for, decided and paid out, repayments, reversals, social
fund help, cash to the bank), refused postings, SMS rolled back as a whole,
meetings closed, members joining and leaving, a group moving to another
region, and time passing for the loans (the daily refresh). Each step commits
like a request does. After every step:

- each group's kept figures equal ``ledger.group_summary`` (savings, social
  fund, cash, bank, income, loans outstanding, active and overdue loans, PAR30,
  repayment rate, members);
- the totals per region, kind and currency equal the sum of their groups;
- the weeks of a group, and of a key, add up to its figures now;
- ``flask reports rebuild``'s recomputation gives the same figures.
"""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import ledger
from db import make_engine
from groups.models import Membership, Status
from groups.service import add_member
from ledger import LedgerError
from ledger.books import group_today
from ledger.figures import Figures
from ledger.models import Loan, LoanStatus
from reports.maintain import T_GROUP_WEEKS, T_GROUPS, T_TOTALS, T_WEEKS, refresh_due
from reports.models import FIGURES
from reports.rebuild import rebuild
from tests.conftest import truncate_all
from tests.ledger_fixtures import make_books

settings.register_profile("reports-stateful", max_examples=8, stateful_step_count=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
_codes = itertools.count(1)
_phones = itertools.count(1)
SUMMARY_FIELDS = ["members", "savings", "social_fund", "cash_box", "bank", "service_charges", "fines",
                  "loans_outstanding", "active_loans", "overdue_loans"]


def kept_figures(session: Session) -> dict[int, tuple[tuple[str, str, str], dt.date, Figures]]:
    return {r.group_id: ((r.region, r.kind, r.currency), r.as_of, Figures(*(getattr(r, c) for c in FIGURES)))
            for r in session.execute(select(T_GROUPS))}


def sums(session: Session, table: Any, by: list[str]) -> dict[tuple[Any, ...], Figures]:
    """Non-zero sums of the figure columns of ``table`` grouped by ``by``."""
    rows = session.execute(select(*(table.c[b] for b in by), *(func.sum(table.c[c]) for c in FIGURES))
                           .group_by(*(table.c[b] for b in by)))
    out = {tuple(r[:len(by)]): Figures(*(int(v) for v in r[len(by):])) for r in rows}
    return {k: v for k, v in out.items() if not v.is_zero()}


class Dashboard(RuleBasedStateMachine):
    url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.engine = make_engine(self.url)
        self.session = Session(self.engine)
        self.keys = itertools.count(1)
        self.receipts: list[tuple[int, str]] = []

    def teardown(self) -> None:
        self.session.rollback()
        self.session.close()
        truncate_all(self.engine)
        self.engine.dispose()

    def key(self) -> str:
        return f"rep-{next(_codes)}-{next(self.keys)}"

    def g(self, i: int) -> Any:
        return self.books[i % 2]

    def member(self, books: Any, i: int) -> Any:
        return books.everyone[i % len(books.everyone)]

    def attempt(self, call: Any) -> Any:
        try:
            result = call()
        except LedgerError:
            self.session.commit()  # a refused SMS still commits its (empty) transaction
            return None
        self.session.commit()
        return result

    @initialize(flag=st.booleans())
    def start(self, flag: bool) -> None:
        n = next(_codes)
        shg = make_books(self.session, f"RS{n}", "shg", n_members=3, region="Kisumu",
                         off_rule_contribution="flag" if flag else "refuse")
        vsla = make_books(self.session, f"RV{n}", "vsla", n_members=3, region="Thrissur")
        vsla.group.currency = "INR"
        self.books = [shg, vsla]
        self.days = [group_today(shg.group) - dt.timedelta(weeks=40)] * 2
        self.session.commit()

    @rule(which=st.integers(0, 1), who=st.integers(0, 4), what=st.sampled_from(["save", "social", "fine"]),
          amount=st.sampled_from([None, 300, 10000]))
    def contribute(self, which: int, who: int, what: str, amount: int | None) -> None:
        b = self.g(which)
        m, k, t, d = self.member(b, who), self.key(), b.treasurer, self.days[which % 2]
        if what == "save":
            r = self.attempt(lambda: ledger.record_saving(self.session, b.group, m, key=k, actor=t, on=d))
        elif what == "social":
            r = self.attempt(lambda: ledger.record_social(self.session, b.group, m, amount, key=k, actor=t, on=d))
        else:
            r = self.attempt(lambda: ledger.record_fine(self.session, b.group, m, amount, fine_type="late"
                                                        if amount is None else None, key=k, actor=t, on=d))
        if r is not None:
            self.receipts.append((which % 2, r.ref))

    @rule(which=st.integers(0, 1), who=st.integers(0, 4), part=st.integers(1, 4), term=st.integers(1, 12),
          unit=st.sampled_from(["week", "month"]), approve=st.booleans())
    def borrow(self, which: int, who: int, part: int, term: int, unit: str, approve: bool) -> None:
        b = self.g(which)
        g, m = b.group, self.member(b, who)
        amount = ledger.loan_limit(self.session, g, m) * part // 4
        k1, k2, k3 = self.key(), self.key(), self.key()
        loan = self.attempt(lambda: ledger.request_loan(self.session, g, m, amount, purpose="trade", term=term,
                                                        unit=unit, key=k1))
        if loan is None:
            return
        decided = self.attempt(lambda: ledger.decide_loan(self.session, g, loan.ref, approve=approve,
                                                          actor=b.chair, key=k2))
        if decided is None or not approve:
            return
        r = self.attempt(lambda: ledger.disburse_loan(self.session, g, loan.ref, actor=b.treasurer, key=k3))
        if r is not None:
            self.receipts.append((which % 2, r.ref))

    @rule(which=st.integers(0, 1), who=st.integers(0, 4), amount=st.sampled_from([500, 5000, 20000, 10**6]))
    def repay(self, which: int, who: int, amount: int) -> None:
        b = self.g(which)
        m, k, d = self.member(b, who), self.key(), self.days[which % 2]
        r = self.attempt(lambda: ledger.record_repayment(self.session, b.group, m, amount, key=k,
                                                         actor=b.treasurer, on=d))
        if r is not None:
            self.receipts.append((which % 2, r.ref))

    @rule(which=st.integers(0, 1), amount=st.sampled_from([1000, 30000]), to=st.sampled_from(["bank", "cash"]),
          help_=st.booleans())
    def move_money(self, which: int, amount: int, to: str, help_: bool) -> None:
        b = self.g(which)
        k = self.key()
        if help_:
            self.attempt(lambda: ledger.pay_social_fund(self.session, b.group, b.members[0], amount,
                                                        reason="illness", key=k, actor=b.treasurer,
                                                        approver=b.chair))
        else:
            self.attempt(lambda: ledger.move_cash(self.session, b.group, amount, to=to, key=k, actor=b.treasurer,
                                                  on=self.days[which % 2]))

    @rule(pick=st.integers(0, 10**6))
    def undo(self, pick: int) -> None:
        if not self.receipts:
            return
        which, ref = self.receipts[pick % len(self.receipts)]
        b, k = self.books[which], self.key()
        self.attempt(lambda: ledger.reverse(self.session, b.group, ref, reason="mistake", key=k,
                                            actor=b.treasurer))

    @rule(which=st.integers(0, 1), who=st.integers(0, 4))
    def sms_rolled_back(self, which: int, who: int) -> None:
        """An SMS with a good item and a bad one: its savepoint rolls back, the transaction commits."""
        b = self.g(which)
        m, k1, k2, d = self.member(b, who), self.key(), self.key(), self.days[which % 2]
        try:
            with self.session.begin_nested():
                ledger.record_fine(self.session, b.group, m, 700, key=k1, actor=b.treasurer, on=d)
                ledger.record_fine(self.session, b.group, m, fine_type="nonsense", key=k2, actor=b.treasurer,
                                   on=d)
        except LedgerError:
            pass
        self.session.commit()

    @rule(which=st.integers(0, 1))
    def close_meeting(self, which: int) -> None:
        b = self.g(which)
        ledger.close_meeting(self.session, b.group, actor=b.treasurer, on=self.days[which % 2])
        self.days[which % 2] += dt.timedelta(weeks=1)
        self.session.commit()

    @rule(which=st.integers(0, 1), join=st.booleans())
    def membership(self, which: int, join: bool) -> None:
        b = self.g(which)
        if join:
            add_member(self.session, b.group, phone=f"+2547990{next(_phones):05d}", name="New member")
        else:
            last = self.session.scalar(select(Membership).where(
                Membership.group_id == b.group.id, Membership.status == Status.ACTIVE)
                .order_by(Membership.id.desc()))
            if last is not None and last.member_id not in {p.id for p in b.everyone}:
                last.status = Status.INACTIVE
        self.session.commit()

    @rule(which=st.integers(0, 1), region=st.sampled_from(["Kisumu", "Thrissur", None]))
    def move_region(self, which: int, region: str | None) -> None:
        self.g(which).group.region = region
        self.session.commit()

    @rule(weeks=st.integers(1, 10))
    def time_passes(self, weeks: int) -> None:
        """Loans age (as if their pay-out was earlier); the daily refresh picks the groups up."""
        self.session.execute(update(Loan).where(Loan.status == LoanStatus.ACTIVE)
                             .values(disbursed_on=Loan.disbursed_on - dt.timedelta(weeks=weeks)))
        self.session.commit()
        refresh_due(self.session, dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        self.session.commit()

    # -- after every step ------------------------------------------------------------
    @invariant()
    def figures_equal_the_ledger(self) -> None:
        if not hasattr(self, "books"):
            return
        kept = kept_figures(self.session)
        for b in self.books:
            key, as_of, fig = kept[b.group.id]
            s = ledger.group_summary(self.session, b.group, today=as_of)
            assert {f: getattr(fig, f) for f in SUMMARY_FIELDS} == {f: getattr(s, f) for f in SUMMARY_FIELDS}
            assert (fig.par30_bp, fig.repayment_rate_bp) == (s.par30_bp, s.repayment_rate_bp)
            assert key == (b.group.region or "", b.group.kind.value, b.group.currency)
            assert as_of >= group_today(b.group) - dt.timedelta(days=1)
        by_key: dict[tuple[Any, ...], Figures] = {}
        for key, _, fig in kept.values():
            by_key[key] = by_key.get(key, Figures()).plus(fig)
        by_key = {k: v for k, v in by_key.items() if not v.is_zero()}
        assert sums(self.session, T_TOTALS, ["region", "kind", "currency"]) == by_key
        assert sums(self.session, T_WEEKS, ["region", "kind", "currency"]) == by_key
        assert sums(self.session, T_GROUP_WEEKS, ["group_id"]) == {
            (gid,): fig for gid, (_, _, fig) in kept.items() if not fig.is_zero()}

    def check_rebuild(self) -> None:
        before = (kept_figures(self.session), sums(self.session, T_TOTALS, ["region", "kind", "currency"]))
        as_of = {gid: day for gid, (_, day, _) in before[0].items()}
        rebuild(self.session, dt.datetime.now(dt.UTC))
        after = kept_figures(self.session)
        for gid, (key, day, fig) in before[0].items():
            if day == as_of[gid] == after[gid][1]:
                assert after[gid] == (key, day, fig)
        self.session.rollback()

    @rule()
    def rebuild_agrees(self) -> None:
        if hasattr(self, "books") and all(r[1] == group_today(self.books[0].group)
                                          for r in kept_figures(self.session).values()):
            self.check_rebuild()


@pytest.mark.slow
def test_dashboard_figures_equal_the_ledger_summary(db_url: str) -> None:
    Dashboard.url = db_url
    run_state_machine_as_test(Dashboard, settings=settings.get_profile("reports-stateful"))
