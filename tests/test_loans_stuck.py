"""No stuck loans: every case here failed on the code before it (see the report).

Demo group UPENDO (KES): 1 Grace treasurer, 2 Mary chair, 3 Faith, 4 Esther; coordinator
Joseph follows it. Demo group BERDE1 (AZN): 1 Aygün treasurer, 2 Səbinə chair,
3 Nərmin, 4 Günay, 5 Lalə secretary; coordinator Elvin.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import delete, select, update

import ledger
from groups.models import Coordinator, CoordinatorGroup, Group, Member, Membership, Role
from i18n import translator
from ledger.books import group_today
from ledger.models import Loan, LoanStatus
from tests.smskit import at_sms, texts_to
from tests.test_ussd import give_pin
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from flask.testing import FlaskClient
    from sqlalchemy.orm import Session

    from services import Services
    from tests.fixture_types import DemoPeople

TREASURER, CHAIR, FAITH, ESTHER = "+254712000001", "+254712000002", "+254712000003", "+254712000004"
JOSEPH = "+254712000099"
AZ_TREASURER, AZ_CHAIR, NERMIN, LALE = "+994501110001", "+994501110002", "+994501110003", "+994501110005"
EN = translator("en")


def kes(minor: int) -> str:
    return EN.money(minor, "KES")


def _people(s: Session, code: str = "UPENDO") -> tuple[Group, dict[str, Member]]:
    group = s.scalars(select(Group).where(Group.code == code)).one()
    return group, {m.phone: m for m in s.scalars(select(Member))}


def save(services: Services, code: str, phone: str, times: int = 1) -> None:
    """She saved the group's fixed amount at each of the last ``times`` meetings."""
    with services.db.transaction() as s:
        group, people = _people(s, code)
        treasurer = s.scalars(select(Member).join(Membership).where(
            Membership.group_id == group.id, Membership.role == Role.TREASURER)).one()
        for weeks in range(1, times + 1):
            ledger.record_saving(s, group, people[phone], key=f"save-{phone}-{weeks}", actor=treasurer,
                                 on=group_today(group) - dt.timedelta(weeks=weeks))


def request(services: Services, code: str, phone: str, amount: int, key: str = "req") -> str:
    with services.db.transaction() as s:
        group, people = _people(s, code)
        return ledger.request_loan(s, group, people[phone], amount, purpose="trade", term=2, unit="month",
                                   key=key).ref


def status(services: Services, ref: str) -> LoanStatus:
    with services.db.transaction() as s:
        return s.get_one(Loan, int(ref[1:])).status


def ask_by_ussd(client: FlaskClient, phone: str, amount: str, pin: str) -> str:
    p = Phone(client, phone)
    p.dial()
    p.choose("Ask for a loan")
    p.send(amount)
    p.choose("Shop or trading")
    p.choose("2 months")
    return p.send(pin)


# -- an approved loan the cash box cannot pay ------------------------------------------------------

@pytest.fixture
def approved(client: FlaskClient, services: Services, demo: DemoPeople) -> str:
    """Faith saved KES 200 (the whole cash box); the chair approved her KES 500 loan."""
    save(services, "UPENDO", FAITH)
    with services.db.transaction() as s:
        group, people = _people(s)
        group.loan_limit_multiplier = 5
    ref = request(services, "UPENDO", FAITH, 50000)
    at_sms(client, CHAIR, f"APPROVE {ref}")
    at_sms(client, TREASURER, f"DISBURSE {ref}")
    assert "The cash box" in texts_to(services, TREASURER)[-1]  # refused: it holds KES 200
    return ref


def test_the_chair_cancels_an_approved_loan_and_the_member_is_told(
        client: FlaskClient, services: Services, approved: str) -> None:
    at_sms(client, CHAIR, f"CANCEL {approved} the cash box is short")
    assert texts_to(services, CHAIR)[-1] == f"CANCEL: approved loan {approved} is cancelled; Faith Njeri gets an SMS."
    assert texts_to(services, FAITH)[-1] == (f"Upendo Women Group: your approved loan {approved} for {kes(50000)} "
                                             "is cancelled. the cash box is short")
    assert status(services, approved) == LoanStatus.CANCELLED
    with services.db.transaction() as s:  # she may ask again
        group, people = _people(s)
        assert ledger.loan_limit(s, group, people[FAITH]) == 100000


def test_decline_of_an_approved_loan_cancels_it(client: FlaskClient, services: Services,
                                                approved: str) -> None:
    at_sms(client, CHAIR, f"DECLINE {approved}")
    assert status(services, approved) == LoanStatus.CANCELLED
    assert "is cancelled" in texts_to(services, FAITH)[-1]


def test_the_chair_cancels_an_approved_loan_by_ussd_with_a_reason(
        client: FlaskClient, services: Services, approved: str) -> None:
    give_pin(services, CHAIR, "1357")
    chair = Phone(client, CHAIR)
    chair.dial()
    assert f"{approved} Faith Njeri {kes(50000)} (approved)" in chair.choose("Loan requests")
    chair.send("1")
    chair.choose("Cancel the loan")
    chair.choose("Not enough money in the cash box")
    assert chair.screen.startswith(f"CON Cancel loan {approved}?")
    assert chair.send("1357") == f"END Loan {approved} is cancelled. Faith Njeri gets an SMS."
    assert texts_to(services, FAITH)[-1].endswith("is cancelled. Not enough money in the cash box.")
    assert status(services, approved) == LoanStatus.CANCELLED


def test_nobody_else_may_cancel_and_a_paid_out_loan_cannot_be(
        client: FlaskClient, services: Services, approved: str) -> None:
    at_sms(client, FAITH, f"CANCEL {approved}")
    assert texts_to(services, FAITH)[-1] == "Sorry, only the chair can send CANCEL."
    at_sms(client, TREASURER, f"CANCEL {approved}")
    assert status(services, approved) == LoanStatus.APPROVED
    save(services, "UPENDO", ESTHER, 2)
    at_sms(client, TREASURER, f"DISBURSE {approved}")
    at_sms(client, CHAIR, f"CANCEL {approved}")
    assert texts_to(services, CHAIR)[-1].startswith(f"CANCEL: item 1 ({approved}): Loan {approved} cannot be changed")
    assert status(services, approved) == LoanStatus.ACTIVE


def test_an_approved_loan_expires_after_the_groups_number_of_meetings(
        client: FlaskClient, services: Services, approved: str) -> None:
    from outreach.loan_expiry import expire_due_loans

    with services.db.transaction() as s:
        group, _ = _people(s)
        group.loan_expiry_meetings = 2
        decided = s.get_one(Loan, int(approved[1:])).decided_at
        assert decided is not None
    decided = decided if decided.tzinfo else decided.replace(tzinfo=dt.UTC)
    # Upendo meets on Tuesdays at 14:00 Nairobi (11:00 UTC): find the second meeting after the approval.
    with services.db.transaction() as s:
        from groups.schedule import meeting_start, next_meeting, rhythm_of
        rhythm = rhythm_of(_people(s)[0])
    first = next_meeting(rhythm, decided)
    second_start = meeting_start(rhythm, first + dt.timedelta(weeks=1))
    with services.db.transaction() as s:
        assert expire_due_loans(s, second_start - dt.timedelta(minutes=1)) == []
    assert status(services, approved) == LoanStatus.APPROVED
    with services.db.transaction() as s:
        assert expire_due_loans(s, second_start) == [approved]
    with services.db.transaction() as s:
        assert expire_due_loans(s, second_start + dt.timedelta(days=1)) == []  # once
    assert status(services, approved) == LoanStatus.EXPIRED
    assert texts_to(services, FAITH)[-1] == (f"Upendo Women Group: your approved loan {approved} for {kes(50000)} "
                                             "has expired: it was not paid out within 2 meetings. You may ask again.")
    at_sms(client, TREASURER, f"DISBURSE {approved}")
    assert "expired" in texts_to(services, TREASURER)[-1]


def test_the_treasurer_is_told_when_a_loan_is_approved(
        client: FlaskClient, services: Services, approved: str) -> None:
    assert texts_to(services, TREASURER)[0] == (f"Kassa: loan {approved} of {kes(50000)} for Faith Njeri is approved. "
                                                f"Pay it out at the meeting: DISBURSE {approved}.")


def test_one_approval_text_whichever_channel_the_chair_used(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    save(services, "UPENDO", FAITH)
    save(services, "UPENDO", ESTHER)
    by_sms = request(services, "UPENDO", FAITH, 10000, key="a")
    by_ussd = request(services, "UPENDO", ESTHER, 10000, key="b")
    at_sms(client, CHAIR, f"APPROVE {by_sms}")
    give_pin(services, CHAIR, "1357")
    chair = Phone(client, CHAIR)
    chair.dial()
    chair.choose("Loan requests")
    chair.choose(f"{by_ussd} Esther Mutua {kes(10000)}")
    chair.choose("Approve")
    chair.send("1357")
    sms_text = texts_to(services, FAITH)[-1]
    ussd_text = texts_to(services, ESTHER)[-1]
    assert sms_text.replace(by_sms, "L?") == ussd_text.replace(by_ussd, "L?")
    assert ussd_text == (f"Upendo Women Group: your loan request {by_ussd} for {kes(10000)} is approved. "
                         "The treasurer will pay it out.")


# -- nobody approves her own loan ---------------------------------------------------------------------

def test_the_chairs_own_request_goes_to_the_secretary_who_approves_it(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    save(services, "BERDE1", AZ_CHAIR, 2)
    give_pin(services, AZ_CHAIR, "1357")
    with services.db.transaction() as s:
        s.execute(update(Member).where(Member.phone == AZ_CHAIR).values(language="en"))
    done = ask_by_ussd(client, AZ_CHAIR, "20", "1357")
    assert done.startswith("END Request L") and "sent to your group's officers" in done
    ref = done.split()[2]
    assert texts_to(services, AZ_CHAIR) == []  # never asked to decide her own loan
    (ask,) = texts_to(services, LALE)
    assert ref in ask and "Səbinə Əliyeva" in ask
    at_sms(client, LALE, f"APPROVE {ref}")
    assert status(services, ref) == LoanStatus.APPROVED
    with services.db.transaction() as s:
        loan = s.get_one(Loan, int(ref[1:]))
        assert loan.decided_by_id == s.scalars(select(Member.id).where(Member.phone == LALE)).one()
    assert texts_to(services, AZ_TREASURER)[-1].startswith("Kassa:") and ref in texts_to(services, AZ_TREASURER)[-1]


def test_the_secretary_may_not_decide_an_ordinary_members_loan(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    save(services, "BERDE1", NERMIN, 2)
    ref = request(services, "BERDE1", NERMIN, 1000)
    at_sms(client, LALE, f"APPROVE {ref}")
    assert status(services, ref) == LoanStatus.REQUESTED


def test_the_chairs_own_request_without_a_secretary_goes_to_the_coordinator(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    save(services, "UPENDO", CHAIR)
    give_pin(services, CHAIR, "1357")
    done = ask_by_ussd(client, CHAIR, "100", "1357")
    assert "sent to your coordinator" in done and "chair" not in done
    ref = done.split()[2]
    (ask,) = texts_to(services, JOSEPH)
    assert ask == (f"Kassa: Mary Achieng (group UPENDO) asks for loan {ref} of {kes(10000)}. "
                   f"Reply APPROVE {ref} or DECLINE {ref}.")
    at_sms(client, JOSEPH, f"APPROVE {ref}")
    assert texts_to(services, JOSEPH)[-1] == f"APPROVE: loan {ref} approved."
    assert status(services, ref) == LoanStatus.APPROVED
    assert texts_to(services, CHAIR)[-1].startswith(f"Upendo Women Group: your loan request {ref}")
    at_sms(client, TREASURER, f"DISBURSE {ref}")  # the coordinator approved: the treasurer pays out
    assert status(services, ref) == LoanStatus.ACTIVE


def test_a_coordinator_may_not_decide_for_a_group_she_does_not_follow(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    save(services, "BERDE1", NERMIN, 2)
    ref = request(services, "BERDE1", NERMIN, 1000)
    at_sms(client, JOSEPH, f"APPROVE {ref}")
    assert texts_to(services, JOSEPH)[-1] == f"APPROVE: item 1 ({ref}): There is no loan {ref} in this group. Nothing was recorded."
    assert status(services, ref) == LoanStatus.REQUESTED


def test_a_group_without_a_chair_sends_requests_to_its_coordinator(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        group, _ = _people(s)
        s.execute(update(Membership).where(Membership.group_id == group.id, Membership.role == Role.CHAIR)
                  .values(role=Role.MEMBER))
    save(services, "UPENDO", FAITH)
    give_pin(services, FAITH, "2580")
    done = ask_by_ussd(client, FAITH, "100", "2580")
    assert "sent to your coordinator" in done
    assert len(texts_to(services, JOSEPH)) == 1 and texts_to(services, CHAIR) == []


def test_nobody_is_told_sent_to_your_chair_when_nobody_would_receive_it(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    save(services, "UPENDO", FAITH)
    with services.db.transaction() as s:
        group, _ = _people(s)
        s.execute(update(Membership).where(Membership.group_id == group.id).values(role=Role.MEMBER))
        s.execute(delete(CoordinatorGroup))
        s.execute(update(Coordinator).values(regions=[], all_groups=False))
    give_pin(services, FAITH, "2580")
    done = ask_by_ussd(client, FAITH, "100", "2580")
    assert done == ("END Nobody can decide a loan in your group yet: it has no chair and no coordinator. "
                    "Ask your treasurer.")
    with services.db.transaction() as s:
        assert s.scalars(select(Loan)).all() == []
