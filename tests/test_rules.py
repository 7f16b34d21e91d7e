"""The chair edits her group's rules with her PIN, by SMS (``RULE ...``) and from her USSD menu;
fine types named in the group's language; instalments on meeting days; a share-out in a group
without a chair. Everything through ``POST /sms/africastalking`` and ``POST /ussd/africastalking``."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeVar

import time_machine
from sqlalchemy import select

import ledger
from groups.models import Coordinator, CoordinatorGroup, Group, Member
from groups.rules import RuleChange
from groups.service import add_member, create_group
from i18n import translator
from messaging.models import InboxMessage
from tests.found import found
from tests.smskit import at_sms, texts_to
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from collections.abc import Callable

    from flask.testing import FlaskClient
    from sqlalchemy.orm import Session

    from services import Services

T = TypeVar("T")
EN = translator("en")
START = dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.UTC)  # a Monday, 11:00 in Nairobi (the meeting day)
PIN = "4071"
TREASURER, CHAIR, MEMBER, OTHER = "+254722200001", "+254722200002", "+254722200003", "+254722200004"


def kes(minor: int) -> str:
    return EN.money(minor, "KES")


def _group(services: Services, kind: str = "shg", code: str = "RULES", **rules: Any) -> None:
    base: dict[str, Any] = dict(saving_amount=50000) if kind == "shg" else dict(share_value=10000, shares_min=1, shares_max=5)
    base.update(fine_types={"late": 1000}, **rules)
    with services.db.transaction() as s:
        group = create_group(s, code=code, name="Jamii Group", kind=kind, currency="KES", country="KE",
                             timezone="Africa/Nairobi", meeting_weekday=0, meeting_time=dt.time(11, 0), **base)
        for phone, name, role in ((TREASURER, "Amina Odhiambo", "treasurer"), (CHAIR, "Bahati Wafula", "chair"),
                                  (MEMBER, "Chiku Atieno", "member"), (OTHER, "Dalila Akinyi", "member")):
            add_member(s, group, phone=phone, name=name, role=role)


def _sms(client: FlaskClient, services: Services, phone: str, text: str) -> list[str]:
    before = len(texts_to(services, phone))
    assert at_sms(client, phone, text).status_code == 200
    return texts_to(services, phone)[before:]


def _reply(client: FlaskClient, services: Services, phone: str, text: str) -> str:
    got = _sms(client, services, phone, text)
    assert got, text
    return got[0]


def _choose_pin(client: FlaskClient, phone: str) -> None:
    """She chooses her PIN on her first money screen (My savings asks for it)."""
    p = Phone(client, phone)
    p.dial()
    p.choose("Settings")
    p.choose("Change PIN")
    assert "Choose a new 4-digit PIN" in p.screen, p.screen
    p.walk(PIN, PIN)


def _read(services: Services, fn: Callable[[Session, Group], T], code: str = "RULES") -> T:
    with services.db.transaction() as s:
        return fn(s, s.scalars(select(Group).where(Group.code == code)).one())


def _changes(services: Services) -> list[tuple[str, str, str, str, str]]:
    with services.db.transaction() as s:
        return [(c.rule, c.subject, c.before, c.after, c.effective)
                for c in s.scalars(select(RuleChange).order_by(RuleChange.id))]


def test_the_chair_changes_the_saving_amount_by_sms_with_her_pin(
        client: FlaskClient, services: Services) -> None:
    with time_machine.travel(START - dt.timedelta(days=2), tick=True):  # a Saturday: no meeting open
        _group(services)
        _choose_pin(client, CHAIR)
        listing = _reply(client, services, CHAIR, "RULE")
        assert listing.startswith("RULE: the group's rules.") and f"Saving per meeting: {kes(50000)}" in listing
        reply = _reply(client, services, CHAIR, f"RULE SAVING 600 {PIN}")
        assert reply == (f"RULE: Rule changed: Saving per meeting: {kes(50000)} -> {kes(60000)}. It counts from "
                         "the next meeting. Every member gets an SMS.")
        assert texts_to(services, MEMBER)[-1] == (f"Jamii Group: Rule changed: Saving per meeting: {kes(50000)} -> "
                                                  f"{kes(60000)}. It counts from the next meeting.")
        assert texts_to(services, TREASURER)[-1].startswith("Jamii Group: Rule changed: Saving per meeting")
        assert _read(services, lambda s, g: g.saving_amount) == 60000
        assert _changes(services) == [("saving", "", "50000", "60000", "next_meeting")]
        # the PIN never stays in the stored SMS
        with services.db.transaction() as s:
            stored = s.scalars(select(InboxMessage.text).where(InboxMessage.from_phone == CHAIR)).all()
        assert "RULE SAVING 600 ****" in stored and not any(PIN in text for text in stored)
    with time_machine.travel(START, tick=True):  # the next meeting: the new amount is the rule
        _reply(client, services, TREASURER, "SAVE 3 600")
        refused = _reply(client, services, TREASURER, "SAVE 4 500")
        assert "Nothing was recorded." in refused
        # during an open meeting the saving amount does not change
        assert _reply(client, services, CHAIR, f"RULE SAVING 700 {PIN}") == (
            "RULE: today's meeting is open. Change this rule after CLOSE: it counts from the next meeting.")
        assert _read(services, lambda s, g: g.saving_amount) == 60000
        _sms(client, services, TREASURER, "CLOSE")
        assert _reply(client, services, CHAIR, f"RULE SAVING 700 {PIN}").startswith("RULE: Rule changed:")
        assert _read(services, lambda s, g: ledger.audit(s, g)) == []


def test_bad_input_and_a_wrong_pin_change_nothing_and_the_pin_locks(
        client: FlaskClient, services: Services) -> None:
    with time_machine.travel(START - dt.timedelta(days=2), tick=True):
        _group(services)
        assert _reply(client, services, CHAIR, f"RULE SAVING 600 {PIN}").startswith("RULE: first choose a PIN")
        _choose_pin(client, CHAIR)
        before = len(texts_to(services, MEMBER))
        assert _reply(client, services, CHAIR, "RULE SAVING 600") == (
            "RULE: write your PIN last, e.g. RULE SAVING 600 4071.")
        assert _reply(client, services, CHAIR, f"RULE WAGES 600 {PIN}") == (
            "RULE: \"WAGES\" is not a rule. The rules: SAVING, SHARE, INTEREST, LIMIT, FINE, PIN, EXPIRY, LOANS, KEEP.")
        assert _reply(client, services, CHAIR, f"RULE LIMIT {PIN}") == (
            "RULE: write one value, then your PIN, e.g. RULE LIMIT 3 4071.")
        assert _reply(client, services, CHAIR, f"RULE FINE {PIN}").startswith(
            "RULE: a fine type, e.g. RULE FINE late 200 4071 (amount), ")
        assert _reply(client, services, CHAIR, f"RULE SAVING abc {PIN}") == "RULE: \"abc\" is not an amount."
        assert _reply(client, services, CHAIR, f"RULE INTEREST 25 {PIN}").startswith(
            "RULE: \"25\" must be a percent a month from 0 to 10")
        assert _reply(client, services, CHAIR, f"RULE SHARE 2000 {PIN}").startswith(
            "RULE: your group saves a fixed amount.")
        assert _reply(client, services, CHAIR, f"RULE SAVING 500 {PIN}") == (
            "RULE: that is already the rule. Nothing changed.")
        assert _reply(client, services, MEMBER, f"RULE SAVING 600 {PIN}").startswith(
            "Sorry, only the chair can send RULE.")
        assert _reply(client, services, CHAIR, "RULE SAVING 600 9999") == (
            "RULE: wrong PIN, nothing changed. Tries left: 2.")
        assert _reply(client, services, CHAIR, "RULE SAVING 600 9998") == (
            "RULE: wrong PIN, nothing changed. Tries left: 1.")
        assert _reply(client, services, CHAIR, "RULE SAVING 600 9997").startswith("Your PIN is locked")
        assert _reply(client, services, CHAIR, f"RULE SAVING 600 {PIN}").startswith("Your PIN is locked")
        assert _read(services, lambda s, g: g.saving_amount) == 50000
        assert _changes(services) == []
        assert texts_to(services, MEMBER)[before:] == ["Sorry, only the chair can send RULE."]  # nobody was told
        with services.db.transaction() as s:
            assert s.scalar(select(Member.pin_locked).where(Member.phone == CHAIR)) is True


def test_interest_limit_fines_and_the_newer_rules_by_sms(client: FlaskClient, services: Services) -> None:
    with time_machine.travel(START - dt.timedelta(days=2), tick=True):
        _group(services)
        _choose_pin(client, CHAIR)
        assert "It counts for new loan requests." in _reply(client, services, CHAIR, f"RULE INTEREST 2.5 {PIN}")
        assert "Loan limit: 3 x savings -> 2 x savings." in _reply(client, services, CHAIR, f"RULE LIMIT 2 {PIN}")
        assert _reply(client, services, CHAIR, f"RULE PIN ON {PIN}").startswith(
            "RULE: Rule changed: PIN before balances: off -> on. It counts from now.")
        assert "Approved loan lapses after: 3 meetings -> never." in _reply(client, services, CHAIR,
                                                                            f"RULE EXPIRY 0 {PIN}")
        assert "Loans at the share-out: repaid first -> taken off the payout." in _reply(
            client, services, CHAIR, f"RULE LOANS DEDUCT {PIN}")
        assert f"Kept in the box at the share-out: {kes(0)} -> {kes(20000)}." in _reply(
            client, services, CHAIR, f"RULE KEEP 200 {PIN}")
        # fine types: a new one named in the group's language, a name for a built-in one, one removed
        assert _reply(client, services, CHAIR, f"RULE FINE simu 50 Simu mkutanoni {PIN}").startswith(
            f"RULE: New rule: Fine: Simu mkutanoni: {kes(5000)}.")
        assert _reply(client, services, CHAIR, f"RULE FINE late Kuchelewa {PIN}").startswith(
            f"RULE: Rule changed: Fine: Kuchelewa: {kes(1000)} -> {kes(1000)}.")
        assert _reply(client, services, CHAIR, f"RULE FINE absent 20 {PIN}").startswith(
            f"RULE: New rule: Fine: Missed meeting: {kes(2000)}.")
        assert _reply(client, services, CHAIR, f"RULE FINE absent OFF {PIN}").startswith(
            f"RULE: Rule changed: Fine: Missed meeting: {kes(2000)} -> removed.")
        group = _read(services, lambda s, g: (g.service_charge_bp, g.loan_limit_multiplier, g.pin_for_balance,
                                              g.loan_expiry_meetings, g.shareout_loans, g.shareout_keep,
                                              g.fine_types))
        assert group == (250, 2, True, 0, "deduct", 20000,
                         {"late": {"amount": 1000, "name": "Kuchelewa"},
                          "simu": {"amount": 5000, "name": "Simu mkutanoni"}})
        assert [c[0] for c in _changes(services)] == ["interest", "limit", "pin", "expiry", "loans", "keep",
                                                      "fine", "fine", "fine", "fine"]
        # members read the balance only after the PIN now
        assert "asks for your PIN before balances" in _reply(client, services, MEMBER, "BAL")
        listing = _reply(client, services, CHAIR, "RULE")
        assert f"Fine: Kuchelewa (late): {kes(1000)}" in listing and "Loan service charge per month: 2.5%" in listing
    with time_machine.travel(START, tick=True):  # the treasurer fines by the name; the receipt names it
        assert _reply(client, services, TREASURER, "FINE 3 kuchelewa").startswith("FINE: 1 member, total")
        assert texts_to(services, MEMBER)[-1].startswith(f"Jamii Group: fine (Kuchelewa) of {kes(1000)} paid.")
        _sms(client, services, TREASURER, "FINE 4 late")
        assert texts_to(services, OTHER)[-1].startswith(f"Jamii Group: fine (Kuchelewa) of {kes(1000)} paid.")
        help_card = "\n".join(_sms(client, services, TREASURER, "HELP"))
        assert "FINE 3 kuchelewa" in help_card, help_card  # the card's example names the group's own fine


def test_a_vsla_share_value_waits_for_the_next_cycle(client: FlaskClient, services: Services) -> None:
    with time_machine.travel(START, tick=True):
        _group(services, "vsla", code="HISA", social_fund_amount=0)
        _choose_pin(client, CHAIR)
        _sms(client, services, TREASURER, "SAVE 1 2 2 2 3 2 4 2")
        _sms(client, services, TREASURER, "CLOSE")
        reply = _reply(client, services, CHAIR, f"RULE SHARE 200 {PIN}")
        assert reply == (f"RULE: Rule changed: Share value: {kes(10000)} -> {kes(20000)}. It counts from the next "
                         f"cycle. This cycle keeps {kes(10000)}. Every member gets an SMS.")
        assert _reply(client, services, CHAIR, f"RULE SAVING 600 {PIN}").startswith(
            "RULE: your group saves in shares.")
    with time_machine.travel(START + dt.timedelta(weeks=1), tick=True):  # still this cycle's value
        _sms(client, services, TREASURER, "SAVE 3 1")
        assert texts_to(services, MEMBER)[-1].startswith(f"Jamii Group: shares bought: 1 ({kes(10000)}).")
        preview = "\n".join(_sms(client, services, TREASURER, "SHAREOUT"))
        code = found(r"send SHAREOUT (\d{4})", preview).group(1)
        assert _reply(client, services, CHAIR, f"RULE KEEP 100 {PIN}").startswith(
            "RULE: a share-out is waiting for its code.")
        assert _sms(client, services, TREASURER, f"SHAREOUT {code}")[0].startswith("SHAREOUT done")
    with time_machine.travel(START + dt.timedelta(weeks=2), tick=True):  # the new cycle: the new value
        _sms(client, services, TREASURER, "SAVE 3 1")
        assert texts_to(services, MEMBER)[-1].startswith(f"Jamii Group: shares bought: 1 ({kes(20000)}).")
        assert _read(services, lambda s, g: ledger.audit(s, g), "HISA") == []


def test_the_chair_changes_rules_from_her_ussd_menu(client: FlaskClient, services: Services) -> None:
    with time_machine.travel(START - dt.timedelta(days=2), tick=True):
        _group(services)
        _choose_pin(client, CHAIR)
        member = Phone(client, MEMBER)
        member.dial()
        assert "Group rules" not in member.screen  # only the chair has it
        p = Phone(client, CHAIR)
        p.dial()
        p.choose("Group rules")
        assert p.option(f"Saving per meeting: {kes(50000)}")
        p.choose(f"Saving per meeting: {kes(50000)}")
        assert "New saving per meeting (amount):" in p.screen
        p.send("abc")
        assert "That is not an amount. Type it again." in p.screen
        p.send("650")
        assert f"Saving per meeting: {kes(50000)} -> {kes(65000)}" in p.screen and "Enter your PIN" in p.screen
        p.send("9999")
        assert "Wrong PIN. Tries left: 2." in p.screen
        assert _read(services, lambda s, g: g.saving_amount) == 50000
        done = p.send(PIN)
        assert done == "END Changed: from the next meeting. Every member gets an SMS.", done
        assert _read(services, lambda s, g: g.saving_amount) == 65000
        assert texts_to(services, MEMBER)[-1].startswith("Jamii Group: Rule changed: Saving per meeting")
        # a new fine type, named in the group's language
        p.dial()
        p.choose("Group rules")
        p.choose("Fine types")
        p.choose("New fine type")
        p.send("Simu")
        p.send("30")
        assert f"Fine: Simu: - -> {kes(3000)}" in p.screen
        assert p.send(PIN).startswith("END Changed: from the next meeting.")
        assert texts_to(services, MEMBER)[-1] == (f"Jamii Group: New rule: Fine: Simu: {kes(3000)}. It counts from "
                                                  "the next meeting.")
        # rename the built-in one, then the PIN before balances
        p.dial()
        p.choose("Group rules")
        p.choose("Fine types")
        p.choose(f"Late: {kes(1000)}")
        p.choose("Change the name")
        p.send("Kuchelewa")
        assert "Fine: Kuchelewa: " in p.screen
        assert p.send(PIN).startswith("END Changed: from the next meeting.")
        p.dial()
        p.choose("Group rules")
        p.choose("PIN before balances: off")
        p.choose("on")
        assert p.send(PIN) == "END Changed. Every member gets an SMS."
        assert texts_to(services, MEMBER)[-1].startswith("Jamii Group: Rule changed: PIN before balances: off -> on.")
        assert _read(services, lambda s, g: (g.pin_for_balance, g.fine_types)) == (
            True, {"late": {"amount": 1000, "name": "Kuchelewa"}, "simu": {"amount": 3000, "name": "Simu"}})
        assert [(c[0], c[4]) for c in _changes(services)] == [("saving", "next_meeting"), ("fine", "next_meeting"),
                                                               ("fine", "next_meeting"), ("pin", "now")]
        member.dial()
        member.choose("My savings")
        assert "First choose a PIN to protect your money." in member.screen  # the PIN now comes first
    with time_machine.travel(START, tick=True):  # fine names on the statement
        _sms(client, services, TREASURER, "FINE 3 simu")
        assert texts_to(services, MEMBER)[-1].startswith(f"Jamii Group: fine (Simu) of {kes(3000)} paid.")
        p = Phone(client, MEMBER)
        p.dial()
        p.choose("Money in and out")
        p.walk(PIN, PIN, PIN)  # she chooses her PIN, then gives it (the group asks it before balances)
        assert "Fine (Simu)" in p.screen, p.screen


COORD = "+254722299999"


def _no_chair_group(services: Services, coordinator: bool) -> None:
    with services.db.transaction() as s:
        group = create_group(s, code="BILA", name="Bila Group", kind="shg", currency="KES", country="KE",
                             timezone="Africa/Nairobi", meeting_weekday=0, meeting_time=dt.time(11, 0),
                             saving_amount=50000)
        for phone, name, role in ((TREASURER, "Amina Odhiambo", "treasurer"), (CHAIR, "Bahati Wafula", "secretary"),
                                  (MEMBER, "Chiku Atieno", "member")):
            add_member(s, group, phone=phone, name=name, role=role)
        if coordinator:
            c = Coordinator(phone=COORD, name="Neema Coordinator", language="en")
            s.add(c)
            s.flush()
            s.add(CoordinatorGroup(coordinator_id=c.id, group_id=group.id))


def _everything_sent(services: Services) -> list[str]:
    from tests.smskit import outbox

    return [m.text for m in outbox(services)]


def test_share_out_without_a_chair_goes_to_the_coordinator_who_may_hold_it(
        client: FlaskClient, services: Services) -> None:
    with time_machine.travel(START, tick=True):
        _no_chair_group(services, coordinator=True)
        _sms(client, services, TREASURER, "SAVE 1 500 2 500 3 500")
        preview = "\n".join(_sms(client, services, TREASURER, "SHAREOUT"))
        code = found(r"send SHAREOUT (\d{4})", preview).group(1)
        told = texts_to(services, COORD)
        assert told == [f"Kassa: Bila Group has no chair. Its treasurer started the share-out, {kes(150000)} to 3 "
                        "members. Send HOLD BILA to stop it."]
        assert texts_to(services, CHAIR) == texts_to(services, CHAIR)[:0] + [
            t for t in texts_to(services, CHAIR) if "share-out" not in t]  # the secretary: the coordinator holds
        assert _reply(client, services, COORD, "HOLD") == "HOLD: write the group's code, e.g. HOLD UPENDO."
        assert _reply(client, services, COORD, "HOLD BILA") == "HOLD: the share-out is on hold. Nothing was paid out."
        assert texts_to(services, TREASURER)[-1] == ("Kassa: Neema Coordinator put the share-out on hold. Nothing "
                                                     "was paid out.")
        held = _reply(client, services, TREASURER, f"SHAREOUT {code}")
        assert held == "The share-out is on hold. Ask who held it, then start it again."
        # started again from the treasurer's menu: told the coordinator, not "the chair"
        p = Phone(client, TREASURER)
        p.dial()
        p.choose("Share-out")
        p.walk(PIN, PIN)  # she chooses her PIN first
        p.choose("Start the share-out")
        done = p.send(PIN)
        assert done.startswith("END Share-out started, code ") and "The coordinator is told." in done, done
        p.dial()
        p.choose("Share-out")
        p.choose("Carry out the share-out")
        assert p.send(PIN).startswith("END Share-out done: ")
        assert texts_to(services, COORD)[-1] == (f"Kassa: Bila Group share-out done, {kes(150000)} paid to 3 members. "
                                                 "A new cycle begins.")
        assert not any("chair" in t.lower() for t in _everything_sent(services) if "has no chair" not in t), \
            [t for t in _everything_sent(services) if "chair" in t.lower()]


def test_share_out_without_a_chair_or_coordinator_goes_to_the_secretary(
        client: FlaskClient, services: Services) -> None:
    with time_machine.travel(START, tick=True):
        _no_chair_group(services, coordinator=False)
        _sms(client, services, TREASURER, "SAVE 1 500 2 500 3 500")
        _sms(client, services, TREASURER, "SHAREOUT")
        assert texts_to(services, CHAIR)[-1].startswith("Kassa: the treasurer started the share-out, ")
        assert _reply(client, services, MEMBER, "HOLD").startswith("Sorry, only the chair can send HOLD.")
        assert _reply(client, services, CHAIR, "HOLD") == "HOLD: the share-out is on hold. Nothing was paid out."
        assert texts_to(services, TREASURER)[-1] == "Kassa: Bahati Wafula put the share-out on hold. Nothing was paid out."
        assert not any("chair" in t.lower() for t in _everything_sent(services)
                       if not t.startswith("Sorry, only the chair")), \
            [t for t in _everything_sent(services) if "chair" in t.lower()]


def test_instalments_fall_on_meeting_days_and_follow_a_cancelled_meeting(
        client: FlaskClient, services: Services) -> None:
    """A one-month loan paid out on Monday 4 January: a month later is Thursday 4 February, so it
    falls due at the meeting of Monday 8 February; once that meeting is cancelled, on the 15th."""
    with time_machine.travel(START, tick=True):
        _group(services)
        _sms(client, services, TREASURER, "SAVE 1 500 2 500 3 500 4 500")
        p = Phone(client, MEMBER)
        p.dial()
        p.choose("Ask for a loan")
        p.walk(PIN, PIN)
        p.walk("1000", "1", "1")
        ref = found(r"\bL\d+\b", p.send(PIN)).group(0)
        _sms(client, services, CHAIR, f"APPROVE {ref}")
        _sms(client, services, TREASURER, f"DISBURSE {ref}")
        bal = _reply(client, services, MEMBER, "BAL")
        assert f"Due date: {EN.date(dt.date(2027, 2, 8))}." in bal, bal
    with time_machine.travel(START + dt.timedelta(weeks=3), tick=True):  # Monday 25 January
        cancel = _reply(client, services, CHAIR, "CANCEL 2027-02-08")
        assert cancel.startswith("CANCEL: meeting cancelled. Date: Monday 8."), cancel
        bal = _reply(client, services, MEMBER, "BAL")
        assert f"Due date: {EN.date(dt.date(2027, 2, 15))}." in bal, bal
        p = Phone(client, MEMBER)
        p.dial()
        p.choose("My loan")
        assert f"Due date: {EN.date(dt.date(2027, 2, 15))}" in p.screen, p.screen
