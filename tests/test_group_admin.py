"""The group's own administration from the phones: two groups, roles.

Demo group UPENDO (KES): 1 Grace treasurer, 2 Mary chair, 3 Faith, 4 Esther; coordinator
Joseph follows it. Faith also joins BERDE1 (AZN) in some tests.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from groups.models import Group, Member, Membership, Role
from groups.service import add_member
from i18n import translator
from tests.smskit import at_sms, texts_to
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from services import Services
    from tests.fixture_types import DemoPeople

TREASURER, CHAIR, FAITH, ESTHER = "+254712000001", "+254712000002", "+254712000003", "+254712000004"
JOSEPH, ELVIN = "+254712000099", "+994501110099"
AZ_TREASURER = "+994501110001"
EN = translator("en")


def role_of(services: Services, code: str, phone: str) -> Role:
    with services.db.transaction() as s:
        return s.scalars(select(Membership.role).join(Group).join(Member).where(
            Group.code == code, Member.phone == phone)).one()


@pytest.fixture
def two_groups(services: Services, demo: DemoPeople) -> Services:
    with services.db.transaction() as s:
        berde = s.scalars(select(Group).where(Group.code == "BERDE1")).one()
        add_member(s, berde, phone=FAITH, name="Faith Njeri", role="treasurer")
    return services


def test_a_member_of_two_groups_chooses_the_group_on_her_first_screen(
        client: FlaskClient, two_groups: Services) -> None:
    p = Phone(client, FAITH)
    assert p.dial() == "CON Which group?\n1. Upendo Women Group\n2. Özünə Dəstək Qrupu Bərdə"
    home = p.send("2")
    assert "Today's meeting" in home  # she is the treasurer there
    body = p.choose("My savings")
    assert EN.money(0, "AZN") in body
    p.send("00")
    p.choose("Change group")
    home = p.send("1")
    assert "Today's meeting" not in home and "Ask for a loan" in home


def test_one_group_goes_straight_home(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    assert Phone(client, ESTHER).dial().startswith("CON 1. My savings")


def test_a_group_code_first_in_an_sms_picks_the_group(client: FlaskClient, two_groups: Services) -> None:
    services = two_groups
    at_sms(client, FAITH, "BAL")
    assert texts_to(services, FAITH)[-1].startswith("Upendo Women Group: your savings")
    at_sms(client, FAITH, "berde1 BAL")
    assert texts_to(services, FAITH)[-1].startswith("Özünə Dəstək Qrupu Bərdə: your savings")
    at_sms(client, FAITH, "UPENDO SAVE 4 200")  # not the treasurer in UPENDO
    assert texts_to(services, FAITH)[-1] == "Sorry, only the treasurer can send SAVE."
    at_sms(client, FAITH, "BERDE1 SAVE 3 5")
    assert texts_to(services, FAITH)[-1].startswith("SAVE: 1 member, total")


def test_the_chair_gives_a_member_a_role_and_she_is_told(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, CHAIR, "ROLE 4 treasurer")
    assert texts_to(services, CHAIR)[-1] == "ROLE: Esther Mutua (4) is now the treasurer."
    assert texts_to(services, ESTHER) == ["Upendo Women Group: you are now the treasurer."]
    assert role_of(services, "UPENDO", ESTHER) == Role.TREASURER
    at_sms(client, ESTHER, "SAVE 3 200")
    assert texts_to(services, ESTHER)[-1].startswith("SAVE: 1 member")


def test_a_new_chair_replaces_the_old_one(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, CHAIR, "ROLE 3 chair")
    assert role_of(services, "UPENDO", FAITH) == Role.CHAIR
    assert role_of(services, "UPENDO", CHAIR) == Role.MEMBER
    at_sms(client, CHAIR, "ROLE 4 treasurer")  # no longer hers to do
    assert texts_to(services, CHAIR)[-1] == "Sorry, only the chair / a coordinator can send ROLE."


def test_a_coordinator_changes_a_role_in_a_group_she_follows_only(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, JOSEPH, "ROLE UPENDO 4 secretary")
    assert role_of(services, "UPENDO", ESTHER) == Role.SECRETARY
    at_sms(client, JOSEPH, "ROLE BERDE1 3 treasurer")
    assert texts_to(services, JOSEPH)[-1].startswith("ROLE: write the group's code")
    assert role_of(services, "BERDE1", "+994501110003") == Role.MEMBER


@pytest.mark.parametrize("text, answer", [
    ("ROLE 4 boss", "ROLE: write the member's number and one of member, treasurer, secretary, chair, "
                    "e.g. ROLE 4 treasurer."),
    ("ROLE treasurer", "ROLE: write the member's number and one of member, treasurer, secretary, chair, "
                       "e.g. ROLE 4 treasurer."),
    ("ROLE 9 treasurer", "ROLE: no member 9 in the group."),
])
def test_bad_role_commands_change_nothing(client: FlaskClient, services: Services, demo: DemoPeople,
                                          text: str, answer: str) -> None:
    at_sms(client, CHAIR, text)
    assert texts_to(services, CHAIR)[-1] == answer
    assert role_of(services, "UPENDO", ESTHER) == Role.MEMBER
    assert texts_to(services, ESTHER) == []


def test_the_treasurer_cannot_change_roles(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, TREASURER, "ROLE 4 chair")
    assert role_of(services, "UPENDO", ESTHER) == Role.MEMBER


# -- coordinators dial the short code too ------------------------------------------------------------

def test_a_coordinator_dials_her_groups_help_requests_and_loans_waiting(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    import datetime as dt

    import ledger
    from ledger.books import group_today
    from support.models import Category
    from support.service import open_request

    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        people = {m.phone: m for m in s.scalars(select(Member))}
        ledger.record_saving(s, group, people[CHAIR], key="s", actor=people[TREASURER],
                             on=group_today(group) - dt.timedelta(weeks=1))
        own = ledger.request_loan(s, group, people[CHAIR], 10000, purpose="trade", term=2, unit="month",
                                  key="own").ref  # the chair's own: waits for the coordinator
        ref = open_request(s, group, people[FAITH], Category.LEGAL, key="h").request.ref
    p = Phone(client, JOSEPH)
    assert p.dial() == "CON 1. My groups\n2. Help requests\n3. Loans waiting for me"
    assert p.choose("My groups") == "CON My groups:\n1. UPENDO Upendo Women Group\n0. Back"
    summary = p.send("1")
    assert "Members: 4" in summary and f"Cash box: {EN.money(20000, 'KES')}" in summary
    p.send("00")
    assert f"{ref} Faith Njeri {FAITH} UPENDO: Legal aid" in p.choose("Help requests")
    p.send("0")
    waiting = p.choose("Loans waiting for me")
    assert f"{own} Mary Achieng {EN.money(10000, 'KES')} UPENDO" in waiting
    assert "APPROVE L17" in waiting


def test_an_azerbaijani_coordinator_sees_only_her_groups_in_her_language(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    p = Phone(client, ELVIN)
    p.dial()
    body = p.send("1")
    assert "BERDE1" in body and "UPENDO" not in body
