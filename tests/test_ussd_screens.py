"""Every screen, in every shipped language, with long realistic values, fits the phone.

Budget: 160 units when all GSM-7, 80 when any character is not (``CON``/``END``
not counted). Screens page automatically; final (END) answers cannot page, so
they must fit whole, unclipped. New catalogs are picked up from i18n.LANGUAGES.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypedDict, cast

import pytest

import ledger
from groups.models import Membership
from groups.service import add_member, create_group
from i18n import LANGUAGES, N_, translator
from ledger.books import group_today
from menus import build_machine
from menus.driver import identify
from menus.engine import Ctx, Deps, End, Say
from menus.hop import Hop
from menus.state import State
from text.gsm7 import units
from text.screen import budget_for

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.orm import Session

    from groups.models import Group, Member
    from menus.engine import Machine
    from programmes.models import Trade
    from services import Services

LONG_NAME = "Nguyễn Thị Phương Thảo Hoàng Lan"  # 32 characters, not GSM-7
LONG_GROUP = "Özünə Dəstək Qrupu Bərdə rayonu Qarağacı kəndi"
LONG_PLACE = "Qarağacı kənd icma resurs mərkəzi, 2-ci mərtəbə"
BIG = 999_999_999  # a saving of about a billion đồng


class LongGroup(TypedDict):
    chair: int
    treasurer: int
    member: int
    phones: dict[str, str]

#: Data each screen expects to find in the session when it is shown.
SCREEN_DATA: dict[str, dict[str, object]] = {
    "loan_amount": {"limit": 9 * BIG},
    "loan_confirm": {"amount": 8 * BIG, "purpose": "services", "term": 6},
    "chair_loan": {"loan": "L1"},
    "chair_decide": {"loan": "L1", "approve": False},
    "help_confirm": {"help": "psychological"},
    "refer_offer": {"limit": 9 * BIG, "amount": 10 * BIG},
    "refer_confirm": {"limit": 9 * BIG, "amount": 10 * BIG, "lender": 0},
    "refer_decide": {"referral": "F1234567", "approve": True},
    "visit_note": {"visit_group": 0},
    "rule_value": {"rule": "interest"},
    "rule_pick": {"rule": "loans"},
    "rule_fine_edit": {"fine": "late"},
    "rule_confirm": {"edit": {"rule": "fine", "value": 9 * BIG, "fine": "late", "name": "Đi muộn quá giờ họp nhóm ạ",
                              "remove": False}},
    "prog_grant": {"grant": 1},
    "prog_checkin": {"business": 1},
    "prog_income": {"business": 1, "trend": "better"},
}


@pytest.fixture
def long_group(services: Services) -> LongGroup:
    """A VND group with long names, big amounts, 25 members, a pending loan and a full statement."""
    with services.db.transaction() as s:
        group = create_group(s, code="LONG1", name=LONG_GROUP, kind="shg", currency="VND", country="VN",
                             timezone="Asia/Ho_Chi_Minh", meeting_place=LONG_PLACE, meeting_weekday=6,
                             saving_amount=BIG, social_fund_amount=BIG // 10,
                             fine_types={"late": BIG // 10, "absent": {"amount": BIG // 10,
                                                                      "name": "Vắng mặt không xin phép ạ"}})
        roles = ["chair", "treasurer"] + ["member"] * 23
        people = [add_member(s, group, phone=f"+8491200{i:04d}", name=f"{LONG_NAME} {i}", role=r)
                  for i, r in enumerate(roles, start=1)]
        chair, treasurer, her = people[0].member, people[1].member, people[2].member
        today = group_today(group)
        for weeks in range(1, 10):
            ledger.record_saving(s, group, her, key=f"long-{weeks}", actor=treasurer,
                                 on=today - dt.timedelta(weeks=weeks))
        ledger.record_social(s, group, her, BIG // 10, key="long-social", actor=treasurer,
                             on=today - dt.timedelta(weeks=1))
        ledger.record_saving(s, group, people[3].member, key="long-today", actor=treasurer)
        ledger.request_loan(s, group, her, 8 * BIG, purpose="services", term=6, unit="month", key="long-loan")
        _programme(s, group, her, today)
        s.flush()
        s.execute(cast("Table", Membership.__table__).update().values(number=Membership.number + 100000)
                  .where(Membership.group_id == group.id))
        return {"chair": chair.id, "treasurer": treasurer.id, "member": her.id, "phones": {
            "chair": chair.phone, "treasurer": treasurer.phone, "member": her.phone}}


def _programme(s: Session, group: Group, her: Member, today: dt.date) -> None:
    """A grant with long items and a big value, and a business with the programme's income bands."""
    from programmes import service

    service.load_trades(s)
    programme = service.create_programme(s, code="LONGP", name=LONG_GROUP, currency="VND", trades=["tailoring"])
    programme.income_bands = [5 * BIG, 50 * BIG, 500 * BIG]
    enrolment = service.enrol_member(s, programme, her, today, group=group)
    trade = programme_trade(s)
    service.give_grant(s, enrolment, trade, "Máy may công nghiệp, bàn là hơi nước và 20 mét vải", BIG, today)
    service.start_business(s, programme, trade, today - dt.timedelta(days=40), enrolment=enrolment)


def programme_trade(s: Session) -> Trade:
    from sqlalchemy import select

    from programmes.models import Trade

    return s.scalars(select(Trade).where(Trade.code == "tailoring")).one()


def _ctx(session: Session, phone: str, lang: str, plain: bool, screen: str) -> Ctx:
    who = identify(session, phone)
    assert who is not None
    who.lang, who.plain = lang, plain
    state = State(phone=phone, who=who, screen=screen, data=dict(SCREEN_DATA.get(screen, {})))
    state.data["reset_member"] = who.member_id
    hop = Hop(session_id="render", phone=phone, service_code="*384*123#", text="")
    return Ctx(hop, state, session, Deps(pepper="test-pepper", service_code="*384*123#",
                                         now=dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)))


def _pages(machine: Machine, ctx: Ctx) -> list[str]:
    pages = [machine.render(ctx)]
    while ctx.state.page + 1 < ctx.state.pages:
        ctx.state.page += 1
        pages.append(machine.render(ctx))
    return pages


def _assert_fits(text: str, where: object) -> None:
    assert text and units(text) <= budget_for(text), f"{where}: {units(text)} > {budget_for(text)}\n{text}"


@pytest.mark.one_backend
def test_every_screen_fits_in_every_language(services: Services, long_group: LongGroup) -> None:
    machine = build_machine()
    assert set(SCREEN_DATA) <= set(machine.screens)
    with services.db.transaction() as s:
        for lang, plain in [(lang, plain) for lang in LANGUAGES for plain in (False, True)]:
            for role, phone in long_group["phones"].items():
                for name in machine.screens:
                    ctx = _ctx(s, phone, lang, plain, name)
                    for n, page in enumerate(_pages(machine, ctx)):
                        _assert_fits(page, f"{lang} plain={plain} {role} {name} page {n}")
                        assert ("98. " in page.rsplit("\n", 1)[-1]) == (n + 1 < ctx.state.pages)


#: Every final answer the menus can give, with the longest realistic values.
FINAL = [
    Say(N_("Request {ref} is sent. A coordinator will call you. We sent you an SMS."), {"ref": "HQQQQ"}),
    Say(N_("Request {ref} is sent to your chair. You will get an SMS with the decision."), {"ref": "L1234567"}),
    Say(N_("Loan {ref} approved. {name} gets an SMS."), {"ref": "L1234567", "name": LONG_NAME}),
    Say(N_("Loan {ref} declined. {name} gets an SMS."), {"ref": "L1234567", "name": LONG_NAME}),
    Say(N_("{name}: the PIN is reset."), {"name": LONG_NAME}),
    Say(N_("Your PIN is locked after 3 wrong tries. Ask your chair or coordinator to reset it.")),
    Say(N_("You already have a loan. Repay it first.")),
    Say(N_("You cannot borrow yet: your limit grows with your savings.")),
    Say(N_("Only the chair can do this.")),
    Say(N_("Only the treasurer can do this.")),
    Say(N_("This session belongs to another phone. Please dial again.")),
    Say(N_("This number is not registered. Ask your group's treasurer or coordinator.")),
    Say(N_("Service busy, please try again in a few minutes.")),
    Say(N_("Sorry, we could not read this request. Please dial again.")),
    Say(N_("Not allowed.")),
    Say(N_("Share-out started, code {code}. The chair is told. Carry it out within 30 minutes."), {"code": "9999"}),
    Say(N_("Share-out done: {total} paid to {n} members. Everyone gets an SMS."),
        {"total": "999.999.999.999 ₫", "n": "25"}),
    Say(N_("All loans must be repaid before the share-out.")),
    Say(N_("There is nothing to share out in this cycle.")),
    Say(N_("{name} owes more than she saved. She must repay first."), {"name": "Nguyễn"}),
    Say(N_("No share-out is waiting. The treasurer starts one with SHAREOUT.")),
    Say(N_("Request {ref} is sent to your chair. You will get an SMS with the lender's contact."),
        {"ref": "F1234567"}),
    Say(N_("Referral {ref} confirmed. {name} gets an SMS."), {"ref": "F1234567", "name": LONG_NAME}),
    Say(N_("Referral {ref} declined. {name} gets an SMS."), {"ref": "F1234567", "name": LONG_NAME}),
    Say(N_("Your visit to {group} is recorded (V{ref})."), {"group": "LONG1234567890AB", "ref": "1234567"}),
    Say(N_("This loan needs a condition Kassa cannot check yet. Ask your coordinator.")),
    Say(N_("This loan is only for members who meet: {condition}."), {"condition": "Completed the training"}),
    Say(N_("Nobody can confirm a referral in your group yet: it has no chair and no coordinator.")),
    Say(N_("Group {code} is not one of your groups."), {"code": "LONG1234567890AB"}),
    Say(N_("You have no groups yet. Ask your coordinator.")),
    Say(N_("Only a field worker can do this.")),
    Say(N_("Share-out started, code {code}. The coordinator is told. Carry it out within 30 minutes."),
        {"code": "9999"}),
    Say(N_("Share-out started, code {code}. The secretary is told. Carry it out within 30 minutes."),
        {"code": "9999"}),
    Say(N_("Share-out started, code {code}. Carry it out within 30 minutes."), {"code": "9999"}),
    Say(N_("Changed. Every member gets an SMS.")),
    Say(N_("Changed: from the next meeting. Every member gets an SMS.")),
    Say(N_("Changed: from the next cycle. Every member gets an SMS.")),
    Say(N_("Changed: for new loans. Every member gets an SMS.")),
    Say(N_("That is already the rule. Nothing changed.")),
    Say(N_("Today's meeting is open. Change this rule after it closes.")),
    Say(N_("A share-out is waiting for its code. Change this rule after it.")),
    Say(N_("That cannot be changed now. Nothing changed.")),
    Say(N_("You can ask for a loan once you have completed your business training.")),
    Say(N_("Thank you. Your answer helps the programme support your business.")),
    Say(N_("Thank you: nothing to answer this month.")),
]


def test_every_final_answer_fits_unclipped(services: Services, long_group: LongGroup) -> None:
    machine = build_machine()
    with services.db.transaction() as s:
        for lang in LANGUAGES:
            ctx = _ctx(s, long_group["phones"]["member"], lang, False, "home")
            for say in FINAL:
                text = machine.final(ctx, End(say))
                _assert_fits(text, f"{lang} {say.msgid}")
                assert text == say.render(translator(lang)), f"clipped: {text}"
            for code, reason in ledger.AMOUNT_MESSAGES.items():  # re-prompts quote what she typed
                _assert_fits(translator(lang).gettext(reason, text="12345678901234567890", example="50000"), code)


@pytest.mark.parametrize("text", ["Savings: KES 1,600", "€uro [x]", "Yığımım: 1.500 ₼", "Tiết kiệm", "é\u0301", "😀 ok", ""])
def test_screen_measure_agrees_with_sms_encoding(text: str) -> None:
    from text.gsm7 import GSM7, shape

    s = shape(text)
    assert units(text) == s.units and (budget_for(text) == 160) == (s.encoding == GSM7)


@pytest.mark.one_backend
def test_coordinator_screens_fit_in_every_language(services: Services, long_group: LongGroup) -> None:
    """A coordinator of many long-named groups, with open help requests and loans waiting."""
    from groups.models import Coordinator, Group
    from support.models import Category
    from support.service import open_request

    machine = build_machine()
    with services.db.transaction() as s:
        group = s.query(Group).filter_by(code="LONG1").one()
        for i in range(2, 8):
            create_group(s, code=f"LONG{i}", name=f"{LONG_GROUP} {i}", kind="shg", currency="VND", country="VN")
        for i in range(12):
            open_request(s, group, _member(s, long_group), Category.LEGAL,
                         key=f"coord-help-{i}")
        s.add(Coordinator(phone="+84912999999", name=LONG_NAME, all_groups=True, language="vi"))
        s.flush()
        for lang, plain in [(lang, plain) for lang in LANGUAGES for plain in (False, True)]:
            for name in [n for n in machine.screens if n.startswith("coord_")]:
                ctx = _ctx_coordinator(s, lang, plain, name)
                for n, page in enumerate(_pages(machine, ctx)):
                    _assert_fits(page, f"{lang} plain={plain} coordinator {name} page {n}")


def _member(s: Session, long_group: LongGroup) -> Member:
    from groups.models import Member

    return s.get_one(Member, long_group["member"])


def _ctx_coordinator(session: Session, lang: str, plain: bool, screen: str) -> Ctx:
    who = identify(session, "+84912999999")
    assert who is not None
    who.lang, who.plain = lang, plain
    state = State(phone="+84912999999", who=who, screen=screen, data={"coord_group": 1})
    hop = Hop(session_id="render", phone="+84912999999", service_code="*384*123#", text="")
    return Ctx(hop, state, session, Deps(pepper="test-pepper", service_code="*384*123#",
                                         now=dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)))
