"""Privacy on a shared phone, and every word in her own language.

Each test here failed on the code before it: the help SMS named the category, balances
had no PIN rule, the language list read "mlyalm", the Vietnamese treasurer's HELP
card was in English, and "Today's meeting" did not list loans to pay out.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select, update

import ledger
from groups.models import Group, Member
from i18n import translator
from ledger.books import group_today
from support.models import SupportRequest
from tests.smskit import at_sms, texts_to
from tests.test_ussd import give_pin
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from services import Services
    from tests.fixture_types import DemoPeople

TREASURER, CHAIR, FAITH = "+254712000001", "+254712000002", "+254712000003"
LAN = "+84912000001"  # the Vietnamese treasurer of BANPHO
EN = translator("en")


def _pin_rule(services: Services, on: bool = True) -> None:
    with services.db.transaction() as s:
        s.execute(update(Group).where(Group.code == "UPENDO").values(pin_for_balance=on))


def test_the_help_request_sms_carries_the_reference_never_the_category(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    p = Phone(client, FAITH)
    p.dial()
    p.choose("Ask for help")
    p.choose("Counselling")
    p.choose("Yes, send it")
    with services.db.transaction() as s:
        ref = s.scalars(select(SupportRequest)).one().ref
    assert texts_to(services, FAITH) == [f"Kassa: your request {ref} is received. A coordinator will call you."]


def test_a_group_may_ask_the_pin_before_balances(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    _pin_rule(services)
    give_pin(services, FAITH, "2580")
    p = Phone(client, FAITH)
    p.dial()
    assert p.choose("My savings") == ("CON Your group asks for your PIN before balances. Enter your PIN.")
    assert p.send("1111").startswith("CON Wrong PIN. Tries left: 2.")
    assert p.send("2580").startswith(f"CON Savings: {EN.money(0, 'KES')}")
    p.send("00")
    assert p.choose("My loan").startswith("CON You have no loan.")  # once per session
    p.dial()
    assert p.choose("Money in and out").startswith("CON Your group asks for your PIN")  # a new session asks again


def test_without_the_rule_balances_show_at_once_and_bal_works(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    p = Phone(client, FAITH)
    p.dial()
    assert p.choose("My savings").startswith("CON Savings:")
    at_sms(client, FAITH, "BAL")
    assert texts_to(services, FAITH)[-1].startswith("Upendo Women Group: your savings")


def test_bal_by_sms_points_to_the_pin_when_the_group_asks_it(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    _pin_rule(services)
    at_sms(client, FAITH, "BAL")
    assert texts_to(services, FAITH) == ["Your group asks for your PIN before balances: dial *384*123# and "
                                         "choose My savings."]


def test_the_pin_rule_without_a_pin_yet_asks_her_to_choose_one(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    _pin_rule(services)
    p = Phone(client, FAITH)
    p.dial()
    assert p.choose("My savings").startswith("CON First choose a PIN to protect your money.")


def test_the_language_list_shows_each_language_by_its_own_name(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    p = Phone(client, FAITH)
    p.dial()
    p.choose("Settings")
    screens = [p.choose("Language")]
    while "\n98. " in p.screen:
        screens.append(p.send("98"))
    shown = "\n".join(screens)
    assert "mlyalm" not in shown.lower() and "hindii" not in shown.lower()
    assert ("മലയാളം" in shown) or ("Malayalam" in shown)
    assert ("हिन्दी" in shown) or ("Hindi" in shown)
    assert "Svenska" in shown and "Kiswahili" in shown


def test_the_vietnamese_treasurers_help_card_is_in_vietnamese(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, LAN, "HELP")
    card = texts_to(services, LAN)[0]  # the card may take two SMS of one segment (a treasurer's is long)
    assert card.startswith("Lenh Kassa, vi du: ") and "SAVE 3 500 4 500" in card
    for lang in ("ru", "hi", "ml"):  # scripts whose plain letters would not read: her words, keywords only
        with services.db.transaction() as s:
            s.execute(update(Member).where(Member.phone == LAN).values(language=lang))
        before = len(texts_to(services, LAN))
        at_sms(client, LAN, "HELP")
        card = texts_to(services, LAN)[before]  # her words first
        assert card.startswith(translator(lang).gettext("Kassa commands, for example: {examples}",
                                                        examples="BAL, HELP")[:12]), card


def test_todays_meeting_lists_the_loans_to_pay_out(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        people = {m.phone: m for m in s.scalars(select(Member))}
        ledger.record_saving(s, group, people[FAITH], key="s1", actor=people[TREASURER],
                             on=group_today(group) - dt.timedelta(weeks=1))
        ref = ledger.request_loan(s, group, people[FAITH], 30000, purpose="trade", term=2, unit="month",
                                  key="r1").ref
    at_sms(client, CHAIR, f"APPROVE {ref}")
    give_pin(services, TREASURER, "3690")
    p = Phone(client, TREASURER)
    p.dial()
    p.choose("Today's meeting")
    screens = [p.screen]
    while "\n98. " in p.screen:
        screens.append(p.send("98"))
    shown = "\n".join(screens)
    assert "To pay out:" in shown and f"{ref} Faith Njeri {EN.money(30000, 'KES')}" in shown
