"""USSD journeys that read or move money: savings, loan, asking for a loan, statement, chair, treasurer."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

import ledger
from groups.models import Group, Member
from i18n import translator
from ledger.books import group_today
from ledger.models import Loan, LoanStatus
from messaging.models import OutboxMessage
from tests.test_ussd import CHAIR, MEMBER, TREASURER, give_pin, outbox
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from flask.testing import FlaskClient
    from sqlalchemy.orm import Session

    from services import Services
    from tests.fixture_types import DemoPeople

EN = translator("en")


def kes(minor: int) -> str:
    return EN.money(minor, "KES")


def people(s: Session) -> tuple[Group, Member, Member, Member]:
    group = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
    by_phone = {m.phone: m for m in s.scalars(select(Member))}
    return group, by_phone[MEMBER], by_phone[TREASURER], by_phone[CHAIR]


@pytest.fixture
def books(services: Services, demo: DemoPeople) -> Services:
    """Faith saved KES 200 at each of the last 3 meetings and paid KES 50 social fund once."""
    with services.db.transaction() as s:
        group, her, treasurer, _ = people(s)
        today = group_today(group)
        for weeks in (3, 2, 1):
            ledger.record_saving(s, group, her, key=f"t-save-{weeks}", actor=treasurer,
                                 on=today - dt.timedelta(weeks=weeks))
        ledger.record_social(s, group, her, 5000, key="t-social", actor=treasurer, on=today - dt.timedelta(weeks=1))
    for number in (MEMBER, CHAIR, TREASURER):
        give_pin(services, number, {MEMBER: "2580", CHAIR: "1357", TREASURER: "3690"}[number])
    return services


@pytest.fixture
def faith(client: FlaskClient, books: Services) -> Phone:
    p = Phone(client, MEMBER)
    p.dial()
    return p


def test_my_savings(faith: Phone) -> None:
    body = faith.choose("My savings")
    assert f"Savings: {kes(60000)}" in body and f"Social fund paid: {kes(5000)}" in body
    assert f": {kes(25000)}" in body  # bring next time: the saving rule and the social fund


def test_my_loan_when_she_has_none(faith: Phone) -> None:
    assert "You have no loan." in faith.choose("My loan")


def test_ask_for_a_loan_end_to_end(faith: Phone, books: Services) -> None:
    body = faith.choose("Ask for a loan")
    assert body.startswith(f"CON You can borrow up to {kes(180000)}. How much?")
    assert faith.send("5000").startswith(f"CON That is above your limit of {kes(180000)}. Type a smaller amount.")
    assert faith.send("lots").startswith('CON "lots" is not an amount. Write it in digits, e.g. 500.')
    assert faith.send("1,500").startswith("CON What is it for?")  # multi-digit, with a separator
    faith.choose("Shop or trading")
    assert faith.screen.startswith("CON Repay over:")
    body = faith.choose("3 months")
    quote = ledger.quote_loan(_group(books), 150000, 3, "month")
    assert body.startswith(f"CON Borrow {kes(150000)} for 3 months.\nRepay in all: {kes(quote.total)}\n"
                           f"First instalment: {kes(quote.schedule[0].amount)}\nDue date: ")
    assert faith.send("9999").startswith("CON Wrong PIN. Tries left: 2.")
    done = faith.send("2580")
    assert done.startswith("END Request L") and "sent to your chair" in done
    with books.db.transaction() as s:
        loan = s.scalars(select(Loan)).one()
        assert (loan.principal, loan.term, loan.purpose, loan.status) == (150000, 3, "trade", LoanStatus.REQUESTED)
        assert loan.request_key == f"ussd:{faith.session_id}:loan"
    (sms,) = outbox(books, CHAIR)
    assert loan.ref in sms.text and "Faith Njeri" in sms.text and kes(150000) in sms.text
    assert faith.repeat() == done  # a repeated final request adds nothing
    faith.dial()
    assert f"Request {loan.ref} for {kes(150000)}: waiting for the chair." in faith.choose("My loan")
    faith.dial()
    assert faith.choose("Ask for a loan") == f"END Request {loan.ref} for {kes(150000)}: waiting for the chair."


def _group(services: Services) -> Group:
    with services.db.transaction() as s:
        return s.scalars(select(Group).where(Group.code == "UPENDO")).one()


def _request(services: Services, amount: int = 100000) -> str:
    with services.db.transaction() as s:
        group, her, _, _ = people(s)
        return ledger.request_loan(s, group, her, amount, purpose="farm", term=2, unit="month", key="t-req").ref


def test_asking_again_while_a_request_waits_names_the_request(faith: Phone, books: Services) -> None:
    ref = _request(books)
    body = faith.choose("Ask for a loan")
    assert body == f"END Request {ref} for {kes(100000)}: waiting for the chair."  # not "repay it first"


def test_chair_approves_with_her_pin(client: FlaskClient, books: Services) -> None:
    ref = _request(books)
    chair = Phone(client, CHAIR)
    chair.dial()
    body = chair.choose("Loan requests")
    assert f"1. {ref} Faith Njeri {kes(100000)}" in body
    assert chair.send("1").startswith(f"CON {ref}: Faith Njeri, {kes(100000)} for 2 months, Farming.")
    assert chair.choose("Approve").startswith(f"CON Approve {ref}?\nEnter your PIN to confirm.")
    assert chair.send("1357") == f"END Loan {ref} approved. Faith Njeri gets an SMS."
    with books.db.transaction() as s:
        assert s.scalars(select(Loan)).one().status == LoanStatus.APPROVED
    assert "is approved" in outbox(books, MEMBER)[-1].text
    chair.dial()  # approved, not yet paid out: listed for cancelling, no longer for deciding
    assert chair.choose("Loan requests") == f"CON Loan requests:\n1. {ref} Faith Njeri {kes(100000)} (approved)\n0. Back"
    assert chair.send("1").endswith("\n1. Cancel the loan\n0. Back")


def test_chair_declines(client: FlaskClient, books: Services) -> None:
    ref = _request(books)
    chair = Phone(client, CHAIR)
    chair.dial()
    chair.choose("Loan requests")
    chair.send("1")
    chair.choose("Decline")
    assert chair.screen.startswith("CON Why? The member reads it.\n1. Not enough money in the cash box")
    chair.choose("Savings too low for this loan")
    assert chair.send("1357") == f"END Loan {ref} declined. Faith Njeri gets an SMS."
    assert outbox(books, MEMBER)[-1].text == (f"Upendo Women Group: your loan request {ref} for {kes(100000)} is "
                                              "not approved. Savings too low for this loan.")


def test_my_loan_after_payout_shows_next_instalment_and_lateness(faith: Phone, books: Services) -> None:
    ref = _request(books, 50000)
    with books.db.transaction() as s:
        group, _, treasurer, chair = people(s)
        ledger.decide_loan(s, group, ref, approve=True, actor=chair, key="t-dec")
        ledger.disburse_loan(s, group, ref, actor=treasurer, key="t-out")
    body = faith.choose("My loan")
    with books.db.transaction() as s:
        loan = s.scalars(select(Loan)).one()
        first = ledger.loans.next_instalment(loan)
        assert first is not None
    assert f"Loan {ref}: you owe {kes(loan.total)}" in body and f"Next instalment: {kes(first.amount)}\nDue date: " in body
    assert "Late" not in body
    with books.db.transaction() as s:  # as if it had been paid out three months ago
        s.scalars(select(Loan)).one().disbursed_on = group_today(people(s)[0]) - dt.timedelta(days=92)
    faith.dial()
    assert "days!" in faith.choose("My loan") and "Late by" in faith.screen
    faith.dial()
    assert faith.choose("Ask for a loan") == "END You already have a loan. Repay it first."


def test_mini_statement_is_paged(faith: Phone, books: Services) -> None:
    with books.db.transaction() as s:
        group, her, treasurer, _ = people(s)
        today = group_today(group)
        for weeks in range(4, 12):
            ledger.record_saving(s, group, her, key=f"t-old-{weeks}", actor=treasurer,
                                 on=today - dt.timedelta(weeks=weeks))
    first = faith.choose("Money in and out")
    assert "\n98. More" in first and "Saving KES 200" in first
    second = faith.send("98")
    assert second != first and "Saving" in second
    assert faith.send("0") == first
    faith.send("98")
    assert faith.send("00").startswith("CON 1. My savings")  # home, not the pages on show
    faith.choose("Money in and out")
    pages = "\n".join(_all_pages(faith))
    assert pages.count("Saving KES 200") + pages.count("Social fund KES 50") == 10  # the last 10 entries


def test_treasurer_sees_todays_meeting(client: FlaskClient, books: Services) -> None:
    with books.db.transaction() as s:
        group, her, treasurer, _ = people(s)
        ledger.record_saving(s, group, her, key="t-today", actor=treasurer)
    p = Phone(client, TREASURER)
    p.dial()
    body = p.choose("Today's meeting")
    assert "Paid: 1 of 4" in body and f"Saved: {kes(20000)}" in body
    body = "\n".join(_all_pages(p))
    assert "Not yet:" in body and "Mary Achieng (2)" in body and "Faith Njeri" not in body


def _all_pages(p: Phone) -> list[str]:
    pages = [p.screen]
    while "\n98. " in p.screen:
        pages.append(p.send("98"))
    return pages


def test_members_cannot_reach_leaders_screens(faith: Phone) -> None:
    assert faith.option("My savings") == "1"
    with pytest.raises(AssertionError):
        faith.option("Loan requests")


def test_outbox_rows_only_after_commit(faith: Phone, books: Services) -> None:
    faith.choose("Ask for a loan")
    faith.walk("1000", "1", "1", "2580")
    with books.db.transaction() as s:
        assert s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "loan_request")) is not None
