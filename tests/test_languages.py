"""Every language, end to end: every SMS Kassa sends, and a full member journey over USSD.

The SMS scenario drives every kind of outbound message through the real
paths (the SMS webhook and its commands, the ledger, support requests, the
reminder planner, loan notices, a broadcast preview) for a group whose people
all speak one language, with realistic values: long Vietnamese names, a long
group name and large amounts in VND. Every message must fit in 2 SMS
segments; in a language whose plain letters read naturally (Latin script), in
1 segment once written in plain letters. The table of segment counts is
printed (``pytest -s``) and shown on failure.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

import ledger
from groups.models import Coordinator, Group, Member
from groups.schedule import next_meeting, rhythm_of
from groups.service import add_member, create_group
from i18n import LANGUAGES, translator
from messaging.models import InboxMessage, OutboxMessage
from outreach.loans import run_loan_notices
from outreach.planner import run_planner
from security.pins import set_pin
from support.models import Category, SupportRequest
from support.service import open_request
from tests.smskit import at_sms
from tests.ussd_phone import Phone
from text.gsm7 import shape
from text.plain import PLAIN_READABLE, plain_letters

if TYPE_CHECKING:
    from collections.abc import Callable

    from flask.testing import FlaskClient
    from sqlalchemy.orm import Session
    from werkzeug.test import TestResponse

    from commands.context import Context, Outcome
    from commands.parser import Parsed
    from i18n import Translator
    from services import Services

CODE = "TANLAP"
TREASURER, CHAIR, LAN, HUONG = "+84912300001", "+84912300002", "+84912300003", "+84912300004"
COORDINATOR = "+84912300099"
SAVING = 2_500_000  # VND has no minor digits
PIN = "2580"


def _group(session: Session, lang: str) -> Group:
    group = create_group(
        session, code=CODE, name="Nhóm tiết kiệm và vốn vay thôn Bản Phố xã Tân Lập", kind="shg",
        currency="VND", country="VN", language=lang, timezone="Asia/Ho_Chi_Minh", region="Lào Cai",
        meeting_weekday=6, meeting_time=dt.time(8, 0), meeting_place="Nhà văn hóa thôn Bản Phố",
        saving_amount=SAVING, social_fund_amount=50_000, fine_types={"late": 20_000, "absent": 50_000})
    for phone, name, role in [(TREASURER, "Nguyễn Thị Thanh Hương", "treasurer"),
                              (CHAIR, "Trần Thị Phương Thảo", "chair"),
                              (LAN, "Hoàng Thị Ngọc Lan Anh", "member"),
                              (HUONG, "Phạm Thị Thu Hương Giang", "member")]:
        add_member(session, group, phone=phone, name=name, role=role, language=lang)
    coordinator = Coordinator(phone=COORDINATOR, name="Đỗ Văn Quang Minh", organisation="Hội Liên hiệp Phụ nữ",
                              language=lang, regions=["Lào Cai"])
    coordinator.groups = [group]
    session.add(coordinator)
    session.flush()
    return group


def _refs(services: Services, phone: str, prefix: str) -> list[str]:
    with services.db.transaction() as s:
        texts = s.scalars(select(OutboxMessage.text).where(OutboxMessage.to_phone == phone)
                          .order_by(OutboxMessage.id))
        return [r for text in texts for r in re.findall(rf"\b{prefix}\d+\b", text)]


def _loan(services: Services, phone: str, amount: int) -> str:
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == CODE)).one()
        member = s.scalars(select(Member).where(Member.phone == phone)).one()
        return ledger.request_loan(s, group, member, amount, purpose="trade", term=4, unit="week",
                                   key=f"lang-loan-{phone}").ref


def _crash_five_times(services: Services, sms: Callable[[str, str], object], phone: str, text: str) -> None:
    from commands.inbox import process
    from commands.parser import Grammar
    from commands.registry import ANYONE, REGISTRY, Command, register
    from messaging.inbound import MAX_ATTEMPTS

    def broken(ctx: Context, parsed: Parsed) -> Outcome:
        raise RuntimeError("bug")

    register(Command("BROKEN", Grammar.NONE, frozenset({ANYONE}), broken, "BROKEN"))
    try:
        sms(phone, text)
        with services.db.transaction() as s:
            inbox_id = s.scalars(select(InboxMessage.id).order_by(InboxMessage.id.desc()).limit(1)).one()
        for _ in range(MAX_ATTEMPTS):
            process(services, inbox_id)
    finally:
        REGISTRY.pop("BROKEN")


def _run_sms_scenario(client: FlaskClient, services: Services, lang: str) -> None:
    with services.db.transaction() as s:
        _group(s, lang)
    sms: Callable[[str, str], TestResponse] = lambda phone, text: at_sms(client, phone, text)  # noqa: E731
    sms(TREASURER, f"SAVE 3 {SAVING:,} 4 {SAVING}")
    sms(TREASURER, "SOCIAL 3 50000 4 50,000")
    sms(TREASURER, "FINE 4 late")
    sms(LAN, "BAL")
    for phone in (LAN, TREASURER, CHAIR):
        sms(phone, "HELP")
    sms(LAN, "BLAH")  # unknown command
    sms(LAN, "SAVE 3 100")  # not her role
    sms(TREASURER, "SAVE 99 2500000")  # no such member: nothing posted
    sms(TREASURER, "SAVE 3 12,5")  # not an amount
    loan = _loan(services, LAN, 5_000_000)
    sms(CHAIR, f"APPROVE {loan}")
    sms(TREASURER, f"DISBURSE {loan}")
    sms(TREASURER, "REPAY 3 1,300,000")
    fine = _refs(services, HUONG, "R")[-1]
    sms(TREASURER, f"UNDO {fine} wrong member")
    declined = _loan(services, HUONG, 1_000_000)
    sms(CHAIR, f"DECLINE {declined} not enough savings yet")
    sms(HUONG, "STOP")
    sms(HUONG, "START")
    sms(HUONG, f"LANG {lang}")
    sms("+84912399999", "SAVE 1 500")  # a stranger: one polite reply
    _crash_five_times(services, sms, LAN, "BROKEN 3 1,250,000 4 1,250,000")  # set aside: an apology
    sms(COORDINATOR, f"BC {CODE} Cuộc họp tuần này chuyển sang thứ Bảy lúc 8 giờ.")
    with services.db.transaction() as s:  # the chair moves the next meeting a day later, then cancels it
        next_on = next_meeting(rhythm_of(s.scalar(select(Group).where(Group.code == CODE))), dt.datetime.now(dt.UTC))
    sms(CHAIR, f"MOVE {next_on + dt.timedelta(days=1):%Y-%m-%d} 17:30")
    sms(CHAIR, "CANCEL")
    sms(TREASURER, "CLOSE")
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == CODE)).one()
        member = s.scalars(select(Member).where(Member.phone == LAN)).one()
        open_request(s, group, member, Category.LEGAL, key="lang-help")
    start = dt.datetime.now(dt.UTC)
    for day in range(0, 36):  # a week of meeting reminders, then a month of loan notices
        now = start + dt.timedelta(days=day, hours=12)
        run_planner(services, now)
        run_loan_notices(services, now)


def _outbox(services: Services) -> list[OutboxMessage]:
    with services.db.transaction() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind != "broadcast")
                              .order_by(OutboxMessage.id)))


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.one_backend
def test_every_sms_fits_in_every_language(client: FlaskClient, services: Services, lang: str) -> None:
    _run_sms_scenario(client, services, lang)
    rows = _outbox(services)
    kinds = {row.kind for row in rows}
    assert {"reply", "receipt", "reminder", "meeting_change"} <= kinds, kinds
    assert len(rows) >= 25
    report, too_long, plain_too_long = [], [], []
    for row in rows:
        assert row.language == lang or row.to_phone == "+84912399999", (row.to_phone, row.language)
        s = shape(row.text)
        p = shape(plain_letters(row.text))
        report.append(f"{lang} {row.kind:<9} {s.encoding} {s.units:>3}u {s.segments} seg | plain {p.segments} | "
                      f"{row.text[:70]!r}")
        if s.segments > 2:
            too_long.append(row.text)
        if lang in PLAIN_READABLE and p.segments > 1:
            plain_too_long.append(plain_letters(row.text))
    print("\n" + "\n".join(report))
    assert not too_long, f"{lang}: over 2 segments: {too_long}"
    assert not plain_too_long, f"{lang}: over 1 segment in plain letters: {plain_too_long}"


def test_segment_report_counts_match_the_outbox(client: FlaskClient, services: Services) -> None:
    """The outbox stores the same encoding and segment count the report computes."""
    _run_sms_scenario(client, services, "az")
    for row in _outbox(services):
        s = shape(row.text)
        assert (row.encoding, row.segments) == (s.encoding, s.segments)


# -- one full member journey per language, through the USSD endpoint ---------------------------

def _journey_group(services: Services, lang: str) -> None:
    with services.db.transaction() as s:
        group = _group(s, lang)
        treasurer = s.scalars(select(Member).where(Member.phone == TREASURER)).one()
        lan = s.scalars(select(Member).where(Member.phone == LAN)).one()
        today = ledger.group_today(group)
        for weeks in (3, 2, 1):
            ledger.record_saving(s, group, lan, key=f"j-save-{weeks}", actor=treasurer,
                                 on=today - dt.timedelta(weeks=weeks))
        set_pin(s, lan, PIN, "test-pepper")


def _shows(t: Translator, screen: str, amount: int) -> bool:
    """``amount`` is on ``screen`` as her language writes it (USSD may use the ISO code)."""
    forms = {t.money(amount, "VND"), t.money(amount, "VND", plain=True)}
    return any(f in screen or plain_letters(f) in screen for f in forms)


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.one_backend
def test_full_member_journey_in_every_language(client: FlaskClient, services: Services, lang: str) -> None:
    t = translator(lang)
    _journey_group(services, lang)
    phone = Phone(client, LAN)
    home = phone.dial()
    assert home.startswith("CON ")
    savings = phone.choose(t.gettext("My savings"))
    assert _shows(t, savings, 3 * SAVING), savings
    phone.send("00")
    meeting = phone.choose(t.gettext("Next meeting"))
    assert lang != "sw" or "saa 2 asubuhi (08:00)" in meeting, meeting  # Swahili time, the clock beside it
    assert "08:00" in meeting and (t.weekday(6).lower() in meeting.lower()
                                   or plain_letters(t.weekday(6)).lower() in meeting.lower()), meeting
    phone.send("00")
    phone.choose(t.gettext("Ask for a loan"))
    assert _shows(t, phone.screen, 3 * 3 * SAVING), phone.screen  # her limit: 3 x savings
    phone.send("5,000,000")
    phone.send("1")  # the first business purpose
    phone.send("1")  # the first term
    assert _shows(t, phone.screen, 5_000_000), phone.screen  # the confirmation, asking her PIN
    done = phone.send(PIN)
    assert done.startswith("END ") and re.search(r"\bL\d+\b", done), done
    phone.dial()
    statement = phone.choose(t.gettext("Money in and out"))
    assert statement.startswith("CON ") and _shows(t, statement, SAVING), statement
    phone.dial()
    phone.choose(t.gettext("Ask for help"))
    phone.choose(t.gettext("Legal aid"))
    help_done = phone.choose(t.gettext("Yes, send it"))
    assert help_done.startswith("END "), help_done
    with services.db.transaction() as s:
        request = s.scalars(select(SupportRequest)).one()
        assert request.category == Category.LEGAL
        sms = list(s.scalars(select(OutboxMessage).where(OutboxMessage.to_phone == LAN)))
        assert sms and {m.language for m in sms} == {lang}, [(m.kind, m.language) for m in sms]
