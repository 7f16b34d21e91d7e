"""The ledger read cache behind "My savings" and "Money in and out": fast, never stale after a commit."""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import event

import ledger
from ledger.books import group_today
from ledger.readcache import ReadCache, cached_position
from tests.test_ussd_money import books, faith, kes, people  # noqa: F401  (fixtures)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from services import Services
    from tests.ussd_phone import Phone


@contextlib.contextmanager
def statements(services: Services) -> Iterator[list[str]]:
    """The SQL statements the app runs inside the block."""
    seen: list[str] = []

    def count(conn: Connection, cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(services.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(services.db.engine, "before_cursor_execute", count)


def savings(faith: Phone) -> str:  # noqa: F811
    faith.dial()
    return faith.choose("My savings")


def save(services: Services, key: str, amount: int | None = None) -> None:
    with services.db.transaction() as s:
        group, her, treasurer, _ = people(s)
        ledger.record_saving(s, group, her, amount=amount, key=key, actor=treasurer)


def test_a_second_read_needs_no_database(faith: Phone, books: Services) -> None:  # noqa: F811
    with statements(books) as first:
        body = savings(faith)
    assert f"Savings: {kes(60000)}" in body and first
    with statements(books) as second:
        assert savings(faith) == body
    assert second == []


def test_a_posting_shows_at_once(faith: Phone, books: Services) -> None:  # noqa: F811
    assert f"Savings: {kes(60000)}" in savings(faith)
    save(books, "t-new")
    assert f"Savings: {kes(80000)}" in savings(faith)


def test_a_commit_outside_the_transaction_helper_also_drops_it(
        faith: Phone, books: Services, session: Session) -> None:  # noqa: F811
    assert f"Savings: {kes(60000)}" in savings(faith)
    group, her, treasurer, _ = people(session)
    ledger.record_saving(session, group, her, key="t-bare", actor=treasurer)
    session.commit()
    assert f"Savings: {kes(80000)}" in savings(faith)


def test_a_rolled_back_posting_keeps_the_cache(faith: Phone, books: Services) -> None:  # noqa: F811
    body = savings(faith)
    with pytest.raises(RuntimeError), books.db.transaction() as s:
        group, her, treasurer, _ = people(s)
        ledger.record_saving(s, group, her, key="t-rolled-back", actor=treasurer)
        raise RuntimeError("the treasurer's phone died")
    with statements(books) as seen:
        assert savings(faith) == body
    assert seen == []


def test_a_change_to_the_saving_rule_shows_at_once(faith: Phone, books: Services) -> None:  # noqa: F811
    assert f": {kes(25000)}" in savings(faith)
    with books.db.transaction() as s:
        group, *_ = people(s)
        group.saving_amount = 30000
    assert f": {kes(35000)}" in savings(faith)


def test_a_correction_marks_the_statement_at_once(faith: Phone, books: Services) -> None:  # noqa: F811
    faith.dial()
    before = faith.choose("Money in and out")
    assert "(corrected)" not in before
    with books.db.transaction() as s:
        group, her, treasurer, _ = people(s)
        last = ledger.mini_statement(s, group, her, limit=1)[0]
        ledger.reverse(s, group, last.ref, reason="typo", key="t-undo", actor=treasurer)
    faith.dial()
    after = faith.choose("Money in and out")
    assert "Correction" in after and "(corrected)" in after


def test_a_read_that_raced_a_commit_is_never_served(books: Services) -> None:  # noqa: F811
    """She read the database just before the treasurer's commit: her old answer is not kept."""
    cache = ReadCache(books.redis)
    with books.db.transaction() as s:
        group, her, _, _ = people(s)
        gid, mid, today = group.id, her.id, group_today(group)

    def read() -> ledger.Position:
        with books.db.transaction() as s:
            g, m, _, _ = people(s)
            return ledger.member_position(s, g, m, today)

    def read_then_commit() -> ledger.Position:
        old = read()
        save(books, "t-race")  # commits and starts a new generation while she is between read and store
        return old

    assert cached_position(cache, gid, mid, today, read_then_commit).savings == 60000
    assert cached_position(cache, gid, mid, today, read).savings == 80000  # not the stale 60000
    assert cached_position(cache, gid, mid, today, lambda: pytest.fail("cached")).savings == 80000
