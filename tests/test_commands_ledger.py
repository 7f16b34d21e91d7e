"""Treasurer and chair commands posted through the ledger, end to end through the SMS webhook.

Demo group UPENDO (KES, English): 1 Grace treasurer, 2 Mary chair, 3 Faith, 4 Esther;
saving rule KES 200, social fund KES 50, fines late KES 20 / absent KES 50.
Demo group BERDE1 (AZN, Azerbaijani): 1 Aygün treasurer, 2 Səbinə chair, 3 Nərmin, 4 Günay,
5 Lalə; saving rule 5 AZN, social fund 1 AZN.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

import ledger
from groups.models import Group, Member
from i18n import translator
from ledger.models import Txn
from tests.found import found
from tests.smskit import at_sms, outbox, texts_to

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from ledger.queries import Position
    from services import Services
    from tests.fixture_types import DemoPeople

TREASURER, CHAIR, FAITH, ESTHER = "+254712000001", "+254712000002", "+254712000003", "+254712000004"
AZ_TREASURER, AZ_CHAIR, NERMIN, GUNAY = "+994501110001", "+994501110002", "+994501110003", "+994501110004"
EN, AZ = translator("en"), translator("az")


def kes(minor: int) -> str:
    return EN.money(minor, "KES")


def azn(minor: int) -> str:
    return AZ.money(minor, "AZN")


def postings(services: Services) -> int:
    with services.db.transaction() as s:
        return s.scalars(select(func.count()).select_from(Txn)).one()


def position(services: Services, code: str, phone: str) -> Position:
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == code)).one()
        member = s.scalars(select(Member).where(Member.phone == phone)).one()
        return ledger.member_position(s, group, member, ledger.group_today(group))


def last(services: Services, phone: str) -> str:
    return texts_to(services, phone)[-1]


def test_one_sms_for_the_group_replayed_three_times_posts_once(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    for _ in range(3):
        assert at_sms(client, TREASURER, "SAVE 3 200, 4 200 1 200", msg_id="ATXid_meeting").status_code == 200
    assert postings(services) == 3
    faith = texts_to(services, FAITH)
    assert len(faith) == 1 and faith[0].startswith(f"Upendo Women Group: saving of {kes(20000)} received. "
                                                   f"Your savings: {kes(20000)}. Receipt R")
    reply = texts_to(services, TREASURER)
    assert len(reply) == 1
    assert reply[0].startswith(f"SAVE: 3 members, total {kes(60000)}. #3 R")
    assert "Upendo Women Group: saving of" in reply[0]  # her own receipt rides in her reply
    assert len(outbox(services)) == 3  # Faith, Esther, and the treasurer's one reply


def test_receipts_in_each_members_language(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, AZ_TREASURER, "yığım 3 5 4 5")
    nermin = last(services, NERMIN)
    assert re.fullmatch(rf"Özünə Dəstək Qrupu Bərdə: {re.escape(azn(500))} əmanət alındı\. "
                        rf"Əmanətiniz: {re.escape(azn(500))}\. Qəbz R\d+\.", nermin)
    assert last(services, AZ_TREASURER).startswith(f"SAVE: 2 üzv, cəmi {azn(1000)}.")
    [row] = outbox(services, to_phone=NERMIN)
    assert (row.kind, row.language, row.encoding, row.priority) == ("receipt", "az", "ucs2", 0)


def test_one_bad_item_and_nothing_is_posted(client: FlaskClient, services: Services,
                                            demo: DemoPeople) -> None:
    at_sms(client, TREASURER, "SAVE 3 200 4 150 1 200")
    assert postings(services) == 0
    reply = last(services, TREASURER)
    assert reply.startswith("SAVE: item 2 (4 150): ") and reply.endswith("Nothing was recorded.")
    assert kes(20000) in reply  # the ledger says what the rule is
    assert texts_to(services, FAITH) == [] and texts_to(services, ESTHER) == []


def test_the_same_member_twice_is_refused(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, TREASURER, f"SAVE 3 200 {FAITH} 200")
    assert postings(services) == 0
    assert last(services, TREASURER) == (f"SAVE: item 2 ({FAITH} 200): member 3 is already in item 1. "
                                         "Nothing was recorded.")


def test_social_and_fines(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, TREASURER, "SOCIAL 3 50 4 50")
    assert last(services, FAITH).startswith(f"Upendo Women Group: social fund {kes(5000)} received.")
    at_sms(client, TREASURER, "FINE 3 late")
    assert last(services, FAITH).startswith(f"Upendo Women Group: fine (Late) of {kes(2000)} paid. Receipt R")  # named
    at_sms(client, TREASURER, "FINE 4 30 came without her passbook")
    assert last(services, ESTHER).startswith(f"Upendo Women Group: fine of {kes(3000)} paid.")
    assert position(services, "UPENDO", FAITH).fines_paid == 2000
    at_sms(client, TREASURER, "FINE 4 gossip")
    assert last(services, TREASURER).startswith("FINE: item 1 (4): ") and "late" in last(services, TREASURER)
    assert postings(services) == 4


def test_undo_reverses_and_tells_the_member(client: FlaskClient, services: Services,
                                            demo: DemoPeople) -> None:
    at_sms(client, TREASURER, "SAVE 3 200")
    ref = found(r"Receipt (R\d+)", last(services, FAITH)).group(1)
    at_sms(client, TREASURER, f"UNDO {ref} wrong member")
    assert last(services, TREASURER).startswith(f"UNDO: receipt {ref} cancelled, correction R")
    assert last(services, FAITH).startswith(f"Upendo Women Group: receipt {ref} of {kes(20000)} was cancelled")
    assert position(services, "UPENDO", FAITH).savings == 0
    at_sms(client, TREASURER, f"UNDO {ref}")  # twice: refused, nothing more
    assert last(services, TREASURER).startswith(f"UNDO: item 1 ({ref}): ")
    assert postings(services) == 2


def test_a_loan_from_request_to_repayment(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, TREASURER, "SAVE 3 200 4 200 1 200")
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        faith = s.scalars(select(Member).where(Member.phone == FAITH)).one()
        loan = ledger.request_loan(s, group, faith, 40000, purpose="trade", term=4, unit="week", key="ussd:test:1")
        loan_ref = loan.ref
    at_sms(client, TREASURER, f"APPROVE {loan_ref}")
    assert last(services, TREASURER) == "Sorry, only the chair can send APPROVE."
    at_sms(client, CHAIR, f"approve {loan_ref.lower()}")
    assert last(services, CHAIR) == f"APPROVE: loan {loan_ref} approved."
    assert last(services, FAITH).startswith(f"Upendo Women Group: your loan request {loan_ref} for {kes(40000)} "
                                            "is approved.")
    at_sms(client, TREASURER, f"DISBURSE {loan_ref}")
    owed = position(services, "UPENDO", FAITH).loan_outstanding
    assert last(services, FAITH).startswith(f"Upendo Women Group: your loan of {kes(40000)} was paid out. "
                                            f"To repay: {kes(owed)}.")
    at_sms(client, TREASURER, "REPAY 3 100")
    assert last(services, FAITH).startswith(f"Upendo Women Group: loan repayment {kes(10000)} received. "
                                            f"Left to repay: {kes(owed - 10000)}.")
    at_sms(client, FAITH, "BAL")
    balance = last(services, FAITH)
    assert balance.startswith(f"Upendo Women Group: your savings {kes(20000)}. Loan to repay: {kes(owed - 10000)}.")
    assert "Next instalment:" in balance


def test_decline_in_azerbaijani(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, AZ_TREASURER, "yığım 3 5")
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == "BERDE1")).one()
        nermin = s.scalars(select(Member).where(Member.phone == NERMIN)).one()
        loan_ref = ledger.request_loan(s, group, nermin, 1000, purpose="farm", term=2, unit="month", key="u:1").ref
    at_sms(client, AZ_CHAIR, f"rədd {loan_ref} indi pul azdır")
    assert last(services, AZ_CHAIR) == f"DECLINE: {loan_ref} borcu rədd olundu."
    assert last(services, NERMIN) == (f"Özünə Dəstək Qrupu Bərdə: {azn(1000)} borc istəyiniz ({loan_ref}) "
                                      "təsdiq olunmadı. indi pul azdır")


def test_unknown_loan_or_another_groups_loan_is_refused(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, AZ_TREASURER, "yığım 3 5")
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == "BERDE1")).one()
        nermin = s.scalars(select(Member).where(Member.phone == NERMIN)).one()
        loan_ref = ledger.request_loan(s, group, nermin, 1000, purpose="farm", term=2, unit="month", key="u:2").ref
    at_sms(client, CHAIR, f"APPROVE {loan_ref}")  # Upendo's chair, Bərdə's loan
    assert last(services, CHAIR).startswith(f"APPROVE: item 1 ({loan_ref}): ")
    with services.db.transaction() as s:
        assert ledger.get_loan(s, s.scalars(select(Group).where(Group.code == "BERDE1")).one(), loan_ref).status.value == "requested"


def test_close_makes_the_meeting_final(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, TREASURER, "SAVE 3 200")
    at_sms(client, TREASURER, "CLOSE")
    summary = f"4 of 4 came. In {kes(20000)}, out {kes(0)}. Cash box {kes(20000)}."
    assert last(services, TREASURER).startswith("CLOSE: Meeting closed. Date: ") and last(services, TREASURER).endswith(summary)
    assert last(services, CHAIR).endswith(summary)  # the chair gets the meeting's summary too
    at_sms(client, TREASURER, "SAVE 4 200")
    assert last(services, TREASURER).startswith("SAVE: item 1 (4 200): ")
    assert postings(services) == 1


@pytest.mark.parametrize("phone, text, expected", [
    (FAITH, "BAL", f"Upendo Women Group: your savings {kes(0)}."),
    (NERMIN, "qalıq", f"Özünə Dəstək Qrupu Bərdə: əmanətiniz {azn(0)}."),
])
def test_balance_before_any_saving(client: FlaskClient, services: Services, demo: DemoPeople, phone: str,
                                   text: str, expected: str) -> None:
    at_sms(client, phone, text)
    assert last(services, phone) == expected
