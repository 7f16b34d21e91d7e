"""A whole savings cycle, run from the phones: weekly meetings, loans, a fine, a social-fund grant,
a member leaving, attendance, a cancelled meeting, and the share-out, then the next cycle's first meeting.

Everything goes through ``POST /sms/africastalking`` and ``POST /ussd/africastalking``; only the
groups and their people are set up directly (no SMS registers a group). The clock travels a week
per meeting (time-machine); the databases and Redis are the real ones.
"""
from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import time_machine
from sqlalchemy import func, select

import ledger
from groups.models import Group, Member, Membership, Status
from groups.service import add_member, create_group
from i18n import LANGUAGES, translator
from ledger.models import Attendance, Cycle, Meeting, ShareOutRequest, Txn
from messaging.models import OutboxMessage
from tests.found import found
from tests.smskit import at_sms, texts_to
from tests.ussd_phone import Phone
from text.gsm7 import shape
from text.plain import PLAIN_READABLE, plain_letters

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from flask.testing import FlaskClient
    from sqlalchemy.orm import Session

    from services import Services

T = TypeVar("T")
EN = translator("en")
START = dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.UTC)  # a Monday, 11:00 in Nairobi
PIN = "4071"


def kes(minor: int) -> str:
    return EN.money(minor, "KES")


@contextmanager
def meeting(week: int) -> Iterator[None]:
    """The clock at the group's meeting, ``week`` weeks after the first one."""
    with time_machine.travel(START + dt.timedelta(weeks=week), tick=True):
        yield


class Group_:
    """One group's phones: SMS in, what each phone was sent."""

    def __init__(self, client: FlaskClient, services: Services, code: str, people: dict[int, str]) -> None:
        self.client, self.services, self.code, self.people = client, services, code, people

    def sms(self, number: int, text: str) -> list[str]:
        """Send ``text`` from member ``number``'s phone; the SMS it got back (a long answer is paged)."""
        phone = self.people[number]
        before = len(texts_to(self.services, phone))
        assert at_sms(self.client, phone, text).status_code == 200
        return texts_to(self.services, phone)[before:]

    def reply(self, number: int, text: str) -> str:
        got = self.sms(number, text)
        assert got, text
        return got[0]

    def last(self, number: int) -> str:
        return texts_to(self.services, self.people[number])[-1]

    def all_to(self, number: int) -> list[str]:
        return texts_to(self.services, self.people[number])

    def payout_sms(self, number: int) -> str:
        """Her one share-out SMS."""
        [text] = [t for t in self.all_to(number) if "share-out: you get" in t]
        return text

    def ussd(self, number: int) -> Phone:
        return Phone(self.client, self.people[number])

    def ask_loan(self, number: int, amount: str) -> str:
        """She asks for a loan from her own phone (choosing her PIN on the way the first time)."""
        phone = self.ussd(number)
        phone.dial()
        phone.choose("Ask for a loan")
        if "Choose a new 4-digit PIN" in phone.screen:
            phone.walk(PIN, PIN)
        assert "How much?" in phone.screen, phone.screen
        phone.walk(amount, "1", "1")  # the first business purpose, one month
        done = phone.send(PIN)
        ref = re.search(r"\bL\d+\b", done)
        assert done.startswith("END ") and ref, done
        return ref.group(0)

    def choose_pin(self, number: int) -> None:
        """She chooses her PIN from Settings on her phone."""
        phone = self.ussd(number)
        phone.dial()
        phone.choose("Settings")
        phone.choose("Change PIN")
        assert "Choose a new 4-digit PIN" in phone.screen, phone.screen
        phone.walk(PIN, PIN)

    def read(self, fn: Callable[[Session, Group], T]) -> T:
        with self.services.db.transaction() as s:
            group = s.scalars(select(Group).where(Group.code == self.code)).one()
            return fn(s, group)


def _setup(services: Services, code: str, kind: str, people: list[tuple[str, str, str]],
           **rules: Any) -> dict[int, str]:
    with services.db.transaction() as s:
        group = create_group(s, code=code, name=f"{code.title()} Group", kind=kind, currency="KES", country="KE",
                             timezone="Africa/Nairobi", meeting_weekday=0, meeting_time=dt.time(11, 0), **rules)
        numbers = {}
        for phone, name, role in people:
            numbers[add_member(s, group, phone=phone, name=name, role=role).number] = phone
        return numbers


def _paid(text: str) -> int:
    found = re.search(r"you get KES ([\d,]+(?:\.\d\d)?)", text)
    assert found, text
    return ledger.parse_amount(found.group(1), "KES")


def _books_sound(g: Group_) -> None:
    assert g.read(lambda s, group: ledger.audit(s, group)) == []
    assert g.read(lambda s, group: sum(line.balance for line in ledger.trial_balance(s, group))) == 0


def test_a_vsla_cycle_from_the_first_shares_to_the_share_out(client: FlaskClient, services: Services) -> None:
    people = [("+254711100001", "Amina Odhiambo", "treasurer"), ("+254711100002", "Bahati Wafula", "chair"),
              ("+254711100003", "Chiku Atieno", "member"), ("+254711100004", "Dalila Akinyi", "member"),
              ("+254711100005", "Eshe Kemunto", "member"), ("+254711100006", "Furaha Nafula", "member")]
    with meeting(0):
        numbers = _setup(services, "TUMAINI", "vsla", people, share_value=10000, shares_min=1, shares_max=5,
                         social_fund_amount=2000, fine_types={"late": 1000}, shareout_loans="deduct")
    g = Group_(client, services, "TUMAINI", numbers)

    with meeting(0):  # first meeting: shares, written as shares
        reply = g.reply(1, "SAVE 1 2 2 3 3 1 4 5 5 2 6 1")
        assert reply.startswith(f"SAVE: 6 members, total {kes(140000)}.")
        assert g.last(4).startswith(f"Tumaini Group: shares bought: 5 ({kes(50000)}). All your shares: 5 "
                                    f"({kes(50000)}). Receipt R")
        g.sms(1, "SOCIAL 1 20 2 20 3 20 4 20 5 20 6 20")
        close = g.reply(1, "CLOSE")
        assert close.endswith(f"6 of 6 came. In {kes(152000)}, out {kes(0)}. Cash box {kes(152000)}.")
        assert g.last(2) == close.removeprefix("CLOSE: ")  # the chair gets the summary

    with meeting(1):  # Dalila is away; Chiku borrows; Eshe is fined
        assert g.reply(1, "ABSENT 4") == "ABSENT: #4 marked absent today."
        g.sms(1, "SAVE 1 1 2 1 3 1 5 1 6 1")
        over = g.reply(1, "SAVE 5 5")  # 6 shares at one meeting: over the limit, nothing kept
        assert "6 shares are outside the group's rule of 1 to 5 per meeting" in over
        assert "Nothing was recorded." in over
        loan = g.ask_loan(3, "500")
        assert g.reply(2, f"APPROVE {loan}") == f"APPROVE: loan {loan} approved."
        assert g.reply(1, f"DISBURSE {loan}").startswith(f"DISBURSE: loan {loan} paid out, {kes(50000)}.")
        g.sms(1, "FINE 5 late")
        close = g.reply(1, "CLOSE")
        assert "5 of 6 came." in close and close.endswith("Absent: #4.")
        assert g.last(2).endswith("Absent: #4.")

    with meeting(2):  # a repayment, a grant from the social fund, Furaha leaves
        g.sms(1, "SAVE 1 1 2 1 3 1 4 1 5 1 6 1")
        g.sms(1, "REPAY 3 300")
        short = g.reply(1, "SOCIALPAY 5 500 funeral")  # the fund holds KES 120
        assert "The social fund holds only" in short and "Nothing was recorded." in short
        grant = g.reply(1, "SOCIALPAY 5 30 funeral")
        assert grant.startswith(f"SOCIALPAY: {kes(3000)} to #5. Left in the social fund: {kes(9000)}. Receipt R")
        assert g.last(5).startswith(f"Tumaini Group: you received {kes(3000)} from the social fund. Receipt R")
        assert "(funeral)" in g.last(2)
        assert g.reply(2, "SOCIALPAY 5 30 x").startswith("Sorry, only the treasurer can send SOCIALPAY.")
        left = g.reply(1, "LEAVE 6")
        assert left.startswith(f"LEAVE: #6 Furaha Nafula has left. Pay her {kes(30000)}. R")
        assert g.last(6) .startswith(f"Tumaini Group: you have left the group. You receive your savings, "
                                     f"{kes(30000)}.")
        assert g.reply(6, "BAL").startswith("This number is not registered")  # her membership ended
        g.sms(1, "CLOSE")
        g.choose_pin(2)  # the chair changes two rules with her PIN: a new share value, the fine's name
        share = g.reply(2, f"RULE SHARE 150 {PIN}")
        assert share == (f"RULE: Rule changed: Share value: {kes(10000)} -> {kes(15000)}. It counts from the next "
                         f"cycle. This cycle keeps {kes(10000)}. Every member gets an SMS.")
        assert g.last(3).startswith("Tumaini Group: Rule changed: Share value:")
        assert g.reply(2, f"RULE FINE late Kuchelewa {PIN}").startswith("RULE: Rule changed: Fine: Kuchelewa:")
        cancel = g.reply(2, "CANCEL 2027-01-25")  # the chair cancels next week's meeting
        assert cancel.startswith("CANCEL: meeting cancelled. Date: ") and "Next meeting: " in cancel
        assert "meeting cancelled. Date: " in g.last(3)  # every member is told

    with meeting(4):  # share-out: preview and code, the chair holds it, a new code, carried out
        g.sms(1, "SAVE 1 1 2 1 3 1 4 1 5 1")
        assert g.last(4).startswith(f"Tumaini Group: shares bought: 1 ({kes(10000)}).")  # this cycle's value
        g.sms(1, "FINE 4 kuchelewa")  # the fine by the name the chair gave it
        assert g.last(4).startswith(f"Tumaini Group: fine (Kuchelewa) of {kes(1000)} paid.")
        preview = g.sms(1, "SHAREOUT")
        text = "\n".join(preview)
        cash = g.read(lambda s, group: ledger.group_summary(s, group).cash_box)
        assert text.startswith(f"SHAREOUT preview: cash box {kes(cash)}, ")
        assert "#3 Chiku:" in text and f"(loan {kes(25000)} taken off)" in text  # 550 owed, 300 repaid
        assert "#6" not in text  # she left with her savings
        code = found(r"send SHAREOUT (\d{4}) within 30 minutes", text).group(1)
        assert g.last(2).startswith("Kassa: the treasurer started the share-out, ")
        assert g.reply(2, "HOLD") == "HOLD: the share-out is on hold. Nothing was paid out."
        assert g.last(1) == "Kassa: the chair put the share-out on hold. Nothing was paid out."
        assert g.reply(1, f"SHAREOUT {code}").startswith("The chair has put the share-out on hold.")
        assert g.read(lambda s, group: s.scalar(select(func.count()).select_from(Txn).where(
            Txn.kind == "share_out"))) == 0
        again = "\n".join(g.sms(1, "shareout"))
        code = found(r"send SHAREOUT (\d{4})", again).group(1)
        assert g.reply(1, "SHAREOUT 0000" if code != "0000" else "SHAREOUT 0001").endswith(
            "is not the share-out code.")
        social = g.read(lambda s, group: ledger.group_summary(s, group).social_fund)
        done = g.sms(1, f"SHAREOUT {code}")
        assert done[0].startswith("SHAREOUT done: ") and f"Social fund kept: {kes(social)}." in done[0]
        payouts = {n: _paid(g.payout_sms(n)) for n in (2, 3, 4, 5)}
        payouts[1] = _paid(done[1])  # the treasurer's own payout, her own SMS
        assert sum(payouts.values()) == cash - social  # every minor unit of the box, but the social fund
        assert "- loan " + kes(25000) in g.payout_sms(3)
        assert any(t.startswith("Kassa: share-out done, ") for t in g.all_to(2))
        after = g.read(lambda s, group: ledger.group_summary(s, group))
        assert (after.cash_box, after.savings, after.service_charges, after.fines) == (social, 0, 0, 0)
        assert after.cycle == 2 and after.loans_outstanding == 0
        # a repeated confirmation answers the same share-out and pays nothing twice
        assert g.reply(1, f"SHAREOUT {code}").startswith("SHAREOUT done: ")
        assert g.read(lambda s, group: s.scalar(select(func.count()).select_from(Txn).where(
            Txn.kind == "share_out"))) == 1
        _books_sound(g)

    with meeting(5):  # the next cycle's first meeting
        g.sms(1, "SAVE 1 1 2 1 3 1 4 1 5 1")
        g.sms(1, "CLOSE")
        first = g.read(lambda s, group: (
            s.scalar(select(Cycle.started_on).where(Cycle.group_id == group.id, Cycle.number == 2)),
            s.scalar(select(func.count()).select_from(Txn).join(Cycle, Cycle.id == Txn.cycle_id).where(
                Cycle.number == 2, Txn.group_id == group.id, Txn.kind == "saving")),
            s.scalar(select(Meeting.closed).where(Meeting.group_id == group.id,
                                                  Meeting.on == dt.date(2027, 2, 8)))))
        assert first == (dt.date(2027, 2, 1), 5, True)
        # the new cycle's shares at the chair's new value
        assert g.last(4).startswith(f"Tumaini Group: shares bought: 1 ({kes(15000)}). All your shares: 1 ")
        _books_sound(g)
        attendance = g.read(lambda s, group: s.scalar(select(func.count()).select_from(Attendance).where(
            Attendance.present.is_(False))))
        assert attendance == 1  # Dalila, once


def test_an_shg_cycle_with_arrears_and_a_share_out_from_the_treasurers_menu(
        client: FlaskClient, services: Services) -> None:
    people = [("+254722200001", "Grace Wanjiku", "treasurer"), ("+254722200002", "Mary Achieng", "chair"),
              ("+254722200003", "Faith Njeri", "member"), ("+254722200004", "Esther Mutua", "member"),
              ("+254722200005", "Joy Chebet", "member")]
    with meeting(0):
        numbers = _setup(services, "UMOJA", "shg", people, saving_amount=20000, social_fund_amount=5000,
                         fine_types={"late": 2000}, shareout_keep=20000)  # each keeps 200 as a float
    g = Group_(client, services, "UMOJA", numbers)

    with meeting(0):
        g.sms(1, "SAVE 1 200 2 200 3 200 4 200 5 200")
        g.sms(1, "SOCIAL 1 50 2 50 3 50 4 50 5 50")
        g.sms(1, "CLOSE")

    with meeting(1):  # Esther misses it; Faith and Joy borrow
        g.sms(1, "ABSENT 4")
        g.sms(1, "SAVE 1 200 2 200 3 200 5 200")
        g.sms(1, "SOCIAL 1 50 2 50 3 50 5 50")
        faith_loan, joy_loan = g.ask_loan(3, "1000"), g.ask_loan(5, "300")
        for loan in (faith_loan, joy_loan):
            g.sms(2, f"APPROVE {loan}")
            g.sms(1, f"DISBURSE {loan}")
        assert "4 of 5 came." in g.reply(1, "CLOSE")

    with meeting(2):  # Esther pays her missed week too; a fine, a grant; Joy leaves owing her loan
        refused = g.reply(1, "SAVE 4 600")  # only one week was missed
        assert f"The group's rule is {kes(20000)}, not {kes(60000)}" in refused
        assert g.reply(1, "SAVE 4 400").startswith(f"SAVE: 1 member, total {kes(40000)}.")
        assert g.last(4).startswith(f"Umoja Group: saving of {kes(40000)} received. Your savings: {kes(60000)}.")
        g.sms(1, "SAVE 1 200 2 200 3 200 5 200")
        g.sms(1, "FINE 2 late")
        assert g.reply(1, "SOCIALPAY 4 50 illness").startswith(f"SOCIALPAY: {kes(5000)} to #4.")
        assert g.reply(1, "LEAVE 1").startswith("Nobody may record her own leaving.")
        left = g.reply(2, "LEAVE 5")  # the chair may record it too
        assert left.startswith(f"LEAVE: #5 Joy Chebet has left. Pay her {kes(29400)}.")  # 600 saved - 306 owed (2% a month)
        assert g.last(5) == (f"Umoja Group: you have left the group. You receive {kes(29400)} "
                             f"(savings {kes(60000)} - loan {kes(30600)}). " + left.split()[-1])
        g.sms(1, "REPAY 3 500")
        g.sms(1, "CLOSE")
        assert "meeting cancelled. Date: " in g.reply(2, "CANCEL")  # the chair cancels the next meeting
        assert "meeting cancelled. Date: " in g.last(4)

    with meeting(4):  # share-out from the treasurer's USSD menu, once every loan is repaid
        g.sms(1, "SAVE 1 200 2 200 3 200 4 200")
        phone = g.ussd(1)
        phone.dial()
        phone.choose("Share-out")
        assert "Choose a new 4-digit PIN" in phone.screen
        blocked = phone.walk(PIN, PIN)
        assert blocked == "END All loans must be repaid before the share-out.", blocked
        g.sms(1, "REPAY 3 520")  # 1,020 in all
        phone.dial()
        preview = phone.choose("Share-out")
        cash = g.read(lambda s, group: ledger.group_summary(s, group).cash_box)
        social = g.read(lambda s, group: ledger.group_summary(s, group).social_fund)
        assert f"Cash box: {kes(cash)}" in preview, preview
        phone.choose("Start the share-out")
        started = phone.send(PIN)
        assert started.startswith("END Share-out started, code "), started
        assert g.last(2).startswith("Kassa: the treasurer started the share-out, ")
        phone.dial()
        phone.choose("Share-out")
        phone.choose("Carry out the share-out")
        done = phone.send(PIN)
        assert done.startswith(f"END Share-out done: {kes(cash - social)} paid to 4 members."), done
        payouts = {n: _paid(g.payout_sms(n)) for n in (1, 2, 3, 4)}
        assert sum(payouts.values()) == cash - social
        assert all(g.payout_sms(n).endswith(f"{kes(20000)} stays in the box as your first saving.")
                   for n in (1, 2, 3, 4))
        after = g.read(lambda s, group: ledger.group_summary(s, group))
        assert (after.cash_box, after.savings, after.cycle) == (social + 4 * 20000, 4 * 20000, 2)  # the float
        assert g.read(lambda s, group: s.scalar(select(ShareOutRequest.status))) == "done"
        _books_sound(g)
        g.choose_pin(2)  # the chair raises the saving for the new cycle, with her PIN
        assert g.reply(2, f"RULE SAVING 250 {PIN}").startswith("RULE: today's meeting is open.")
        g.sms(1, "CLOSE")
        raised = g.reply(2, f"RULE SAVING 250 {PIN}")
        assert raised.startswith(f"RULE: Rule changed: Saving per meeting: {kes(20000)} -> {kes(25000)}. It counts "
                                 "from the next meeting.")
        assert g.last(3).startswith("Umoja Group: Rule changed: Saving per meeting:")

    with meeting(5):  # the next cycle starts with the chair's new saving amount
        assert "Nothing was recorded." in g.reply(1, "SAVE 1 200")
        assert g.reply(1, "SAVE 1 250 2 250 3 250 4 250").startswith(f"SAVE: 4 members, total {kes(100000)}.")
        assert g.last(3).startswith(f"Umoja Group: saving of {kes(25000)} received. Your savings: {kes(45000)}.")
        g.sms(1, "CLOSE")
        assert g.read(lambda s, group: s.scalar(select(func.count()).select_from(Membership).where(
            Membership.group_id == group.id, Membership.status == Status.ACTIVE))) == 4
        assert g.read(lambda s, group: s.scalar(select(Meeting.closed).where(
            Meeting.group_id == group.id, Meeting.on == dt.date(2027, 2, 8)))) is True
        assert g.read(lambda s, group: s.scalar(select(func.count()).select_from(Meeting).where(
            Meeting.group_id == group.id, Meeting.on == dt.date(2027, 1, 25)))) == 0  # cancelled: nothing held
        _books_sound(g)
        assert g.read(lambda s, group: s.get_one(Member, 1).name) == "Grace Wanjiku"


# -- every new SMS fits, in every language (the budgets of tests/test_languages.py) ------------

@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.one_backend
def test_every_cycle_sms_fits_in_every_language(client: FlaskClient, services: Services, lang: str) -> None:
    from tests.test_languages import CHAIR, HUONG, LAN, TREASURER, _group

    with services.db.transaction() as s:
        _group(s, lang)
    start = len(_all(services))
    for text in ("SAVE 2 2,500,000 3 2,500,000 4 2,500,000", "SOCIAL 2 50000 3 50000 4 50000",
                 "FINE 3 late", "ABSENT 4", "SOCIALPAY 3 50000 ốm nặng", "SOCIALPAY 3 9,000,000 x", "LEAVE 4",
                 "LEAVE 1", "SHAREOUT 1234", "SHAREOUT"):
        at_sms(client, TREASURER, text)
    at_sms(client, CHAIR, "HOLD")
    at_sms(client, TREASURER, "SHAREOUT")
    code = re.findall(r"SHAREOUT (\d{4})", "\n".join(texts_to(services, TREASURER)))[-1]
    for text in ("SHAREOUT 0000", f"SHAREOUT {code}", "CLOSE"):
        at_sms(client, TREASURER, text)
    at_sms(client, CHAIR, "HOLD")
    rows = _all(services)[start:]
    assert len([r for r in rows if "SHAREOUT" not in r.text]) >= 15
    assert {r.to_phone for r in rows} >= {TREASURER, CHAIR, LAN, HUONG}
    too_long = [r.text for r in rows if shape(r.text).segments > 2]
    plain_too_long = [r.text for r in rows if lang in PLAIN_READABLE and shape(plain_letters(r.text)).segments > 1]
    assert not too_long and not plain_too_long, (too_long, plain_too_long)
    assert all(r.language == lang for r in rows)


def _all(services: Services) -> list[OutboxMessage]:
    with services.db.transaction() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# -- refusals: each answers why and changes nothing ---------------------------------------------

def _counts(g: Group_) -> tuple[int, int]:
    return g.read(lambda s, group: (s.scalars(select(func.count()).select_from(Txn)).one(),
                                    s.scalars(select(func.count()).select_from(Membership).where(
                                        Membership.status == Status.ACTIVE)).one()))


def test_share_out_refusals_expiry_and_hold(client: FlaskClient, services: Services) -> None:
    people = [("+254733300001", "Amina Odhiambo", "treasurer"), ("+254733300002", "Bahati Wafula", "chair"),
              ("+254733300003", "Chiku Atieno", "member")]
    with meeting(0):
        numbers = _setup(services, "IMANI", "vsla", people, share_value=10000, shares_max=5,
                         shareout_loans="deduct")
        g = Group_(client, services, "IMANI", numbers)
        assert g.reply(1, "SHAREOUT") == "There is nothing to share out in this cycle."
        assert g.reply(1, "SAVE 1 300 2 3 3 1").startswith(f"SAVE: 3 members, total {kes(70000)}.")  # 300 = 3 shares
        assert "is not a whole number of shares" in g.reply(1, "SAVE 3 150")
        assert g.reply(3, "SHAREOUT") == "Sorry, only the treasurer can send SHAREOUT."
        assert g.reply(2, "HOLD") == "No share-out is waiting. The treasurer starts one with SHAREOUT."
        assert g.reply(1, "HOLD") == "Sorry, only the chair can send HOLD."
        assert g.reply(1, "SHAREOUT 1234") == "No share-out is waiting. The treasurer starts one with SHAREOUT."
        loan = g.ask_loan(3, "300")
        g.sms(2, f"APPROVE {loan}")
        assert g.reply(1, "SHAREOUT") == "All loans must be repaid before the share-out."  # approved, not paid out
        g.sms(1, f"DISBURSE {loan}")
        owes = g.reply(1, "SHAREOUT")  # deducted from her payout, but she owes more than she saved
        assert owes == (f"Chiku Atieno owes {kes(33000)} but has only {kes(10000)} saved. "
                        "She must repay the rest first.")
        assert g.reply(1, "LEAVE 3") == owes
        g.sms(1, "REPAY 3 250")
        before = _counts(g)
        code = found(r"SHAREOUT (\d{4})", "\n".join(g.sms(1, "SHAREOUT"))).group(1)
    with time_machine.travel(START + dt.timedelta(minutes=31), tick=True):
        assert g.reply(1, f"SHAREOUT {code}") == "The share-out code has expired. Send SHAREOUT for a new one."
        assert g.reply(2, "HOLD") == "No share-out is waiting. The treasurer starts one with SHAREOUT."
        assert _counts(g) == before
        assert g.read(lambda s, group: ledger.group_summary(s, group).cycle) == 1


def test_leaving_grants_and_attendance_refusals(client: FlaskClient, services: Services) -> None:
    people = [("+254744400001", "Grace Wanjiku", "treasurer"), ("+254744400002", "Mary Achieng", "chair"),
              ("+254744400003", "Faith Njeri", "member"), ("+254744400004", "Esther Mutua", "member")]
    with meeting(0):
        numbers = _setup(services, "NURU", "shg", people, saving_amount=20000, social_fund_amount=5000)
        g = Group_(client, services, "NURU", numbers)
        g.sms(1, "SAVE 2 200 3 200 4 200")
        g.sms(1, "SOCIAL 1 50 2 50 3 50 4 50")
        g.ask_loan(4, "100")  # a request still waiting for the chair
        before = _counts(g)
        assert g.reply(1, "LEAVE 4") == ("This member has a loan request or an approved loan. "
                                         "Decide or pay it out first.")
        assert g.reply(1, "LEAVE 3 4") == "LEAVE: one member at a time, e.g. LEAVE 4."
        assert g.reply(1, "LEAVE") == "LEAVE: write the members' numbers, e.g. LEAVE 4 7."
        assert g.reply(1, "LEAVE 9").startswith("LEAVE: item 1 (9): no member 9 in your group.")
        assert g.reply(1, "SOCIALPAY 1 20 sick") == ("SOCIALPAY: item 1 (1 20): You may not approve a payment to "
                                                      "yourself. Nothing was recorded.")
        assert g.reply(1, "SOCIALPAY 3 sick").startswith("SOCIALPAY: write one member, the amount and the reason")
        assert g.reply(3, "ABSENT 4") == "Sorry, only the chair / the treasurer can send ABSENT."
        assert _counts(g) == before
        assert g.reply(2, "ABSENT 4, #3") == "ABSENT: #4, #3 marked absent today."
        g.sms(2, "CLOSE")
        assert g.reply(1, "ABSENT 2").startswith(
            "That meeting is closed: only corrections are possible. Meeting date: ")
        assert g.last(1).endswith("Absent: #3, #4.") is False  # the refusal, not a summary
        assert g.all_to(1)[-2].endswith("Absent: #3, #4.")  # the treasurer got the chair's summary
