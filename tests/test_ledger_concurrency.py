"""Two people writing to one group's books at once, each on her own connection.

The second writer is started while the first one's transaction is still open
(it has posted and not yet committed), so the two always overlap: on
PostgreSQL the second waits on a row lock or a unique index, on SQLite on the
writer lock. Either way: both postings land, a loan pays out once, a repeated
key posts once.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

import ledger
from db import make_engine
from groups.models import Group, Member
from ledger.models import Txn
from tests.ledger_fixtures import MONDAY, make_books

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ledger.books import Receipt
    from services import Services

HOLD = 0.3  # seconds the first writer keeps its transaction open after posting


class Setup(TypedDict):
    group: int
    t1: int
    t2: int
    chair: int
    members: list[int]


@pytest.fixture
def setup(services: Services) -> Setup:
    """A committed group with two treasurers, its chair and four members who saved."""
    with services.db.transaction() as s:
        books = make_books(s, "CONC1", "shg", n_members=4)
        from groups.service import add_member

        second = add_member(s, books.group, phone="+254711999001", name="Second treasurer",
                            role="treasurer").member
        ids: Setup = dict(group=books.group.id, t1=books.treasurer.id, t2=second.id, chair=books.chair.id,
                          members=[m.id for m in books.members])
    return ids


def _writer(url: str, work: Callable[[Any], Any], posted: threading.Event | None,
            results: dict[str, Any], name: str, hold: float = 0.0) -> threading.Thread:
    """A thread that runs ``work(session)`` in its own transaction and records what happened."""
    def run() -> None:
        engine = make_engine(url)
        session = sessionmaker(engine, expire_on_commit=False)()
        try:
            results[name] = work(session)
            if posted is not None:
                posted.set()
            time.sleep(hold)
            session.commit()
        except Exception as err:  # recorded and asserted on by the test
            session.rollback()
            results[name] = err
            if posted is not None:
                posted.set()
        finally:
            session.close()
            engine.dispose()
    return threading.Thread(target=run)


def _overlapping(url: str, first: Callable[[Any], Any], second: Callable[[Any], Any]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    posted = threading.Event()
    a = _writer(url, first, posted, results, "first", hold=HOLD)
    b = _writer(url, second, None, results, "second")
    a.start()
    assert posted.wait(10)
    b.start()
    a.join(20)
    b.join(20)
    return results


def _load(session: Session, ids: Mapping[str, object], *names: str | int) -> list[Any]:
    group: Any = session.get(Group, ids["group"])
    return [group] + [session.get(Member, ids[n]) if isinstance(n, str) else session.get(Member, n)
                      for n in names]


def test_two_treasurers_posting_at_once_both_land(db_url: str, services: Services, setup: Setup) -> None:
    ids = setup

    def saves(actor: str, member_ids: list[int], tag: str) -> Callable[[Any], Any]:
        def work(s: Session) -> list[Receipt]:
            group, treasurer = _load(s, ids, actor)
            return [ledger.record_saving(s, group, s.get_one(Member, mid), key=f"{tag}-{mid}", actor=treasurer,
                                         on=MONDAY) for mid in member_ids]
        return work

    results = _overlapping(db_url, saves("t1", ids["members"][:2], "a"), saves("t2", ids["members"][2:], "b"))
    assert all(isinstance(r, list) for r in results.values()), results
    with services.db.transaction() as s:
        group = s.get_one(Group, ids["group"])
        assert ledger.group_summary(s, group, MONDAY).cash_box == 4 * 20000
        assert ledger.audit(s, group) == []


def test_two_pay_outs_of_one_loan_pay_once(db_url: str, services: Services, setup: Setup) -> None:
    ids = setup
    with services.db.transaction() as s:
        group, t1, chair, m = _load(s, ids, "t1", "chair", ids["members"][0])
        for mid in ids["members"]:
            ledger.record_saving(s, group, s.get_one(Member, mid), key=f"save-{mid}", actor=t1, on=MONDAY)
        loan = ledger.request_loan(s, group, m, 30000, purpose="trade", term=4, unit="week", key="ask")
        ledger.decide_loan(s, group, loan.ref, approve=True, actor=chair, key="yes")
        ref = loan.ref

    def pay(actor: str, key: str) -> Callable[[Any], Any]:
        def work(s: Session) -> Receipt:
            group, treasurer = _load(s, ids, actor)
            return ledger.disburse_loan(s, group, ref, actor=treasurer, key=key)
        return work

    results = _overlapping(db_url, pay("t1", "pay-1"), pay("t2", "pay-2"))
    assert isinstance(results["first"], ledger.Receipt), results
    assert isinstance(results["second"], ledger.LedgerError) and results["second"].code == "loan_state"
    with services.db.transaction() as s:
        group = s.get_one(Group, ids["group"])
        assert ledger.group_summary(s, group).cash_box == 4 * 20000 - 30000
        assert s.scalar(select(func.count(Txn.id)).where(Txn.kind == "disbursement")) == 1
        assert ledger.audit(s, group) == []


def test_the_same_key_from_two_connections_posts_once(db_url: str, services: Services, setup: Setup) -> None:
    ids = setup

    def save(actor: str) -> Callable[[Any], Any]:
        def work(s: Session) -> Receipt:
            group, treasurer, member = _load(s, ids, actor, ids["members"][0])
            return ledger.record_saving(s, group, member, key="sms-42", actor=treasurer, on=MONDAY)
        return work

    results = _overlapping(db_url, save("t1"), save("t2"))
    first, second = results["first"], results["second"]
    assert isinstance(second, ledger.Receipt), results
    assert (first.ref, first.replayed, second.ref, second.replayed) == (first.ref, False, first.ref, True)
    with services.db.transaction() as s:
        assert s.scalar(select(func.count(Txn.id))) == 1
        assert ledger.group_summary(s, s.get_one(Group, ids["group"])).cash_box == 20000
