"""USSD journeys through POST /ussd/africastalking, screen by screen, on real Redis and both databases."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import pytest
from sqlalchemy import select

from groups.models import Member, Status
from messaging.models import OutboxMessage
from security.pins import pin_matches, set_pin
from support.models import SupportRequest
from tests.ussd_phone import Phone

if TYPE_CHECKING:
    from collections.abc import Callable

    from flask.testing import FlaskClient, FlaskCliRunner

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

MEMBER, TREASURER, CHAIR = "+254712000003", "+254712000001", "+254712000002"
AZ_MEMBER, AZ_CHAIR = "+994501110003", "+994501110002"
PEPPER = "test-pepper"


@pytest.fixture
def phone(client: FlaskClient, demo: DemoPeople) -> Callable[[str], Phone]:
    return lambda number: Phone(client, number)


def give_pin(services: Services, number: str, pin: str = "2580") -> None:
    with services.db.transaction() as s:
        set_pin(s, s.scalars(select(Member).where(Member.phone == number)).one(), pin, PEPPER)


def member(services: Services, number: str) -> Member:
    with services.db.transaction() as s:
        return s.scalars(select(Member).where(Member.phone == number)).one()


def outbox(services: Services, to: str | None = None) -> list[OutboxMessage]:
    with services.db.transaction() as s:
        q = select(OutboxMessage).order_by(OutboxMessage.id)
        return list(s.scalars(q.where(OutboxMessage.to_phone == to) if to else q))


# -- home, navigation, input --------------------------------------------------------------

def test_home_by_role(phone: Callable[[str], Phone]) -> None:
    assert "Today's meeting" in phone(TREASURER).dial() and "Loan requests" not in phone(TREASURER).screen
    chair = phone(CHAIR)
    assert "Loan requests" in chair.dial() and "Reset a member's PIN" in chair.screen
    m = phone(MEMBER)
    assert "My savings" in m.dial() and "Loan requests" not in m.screen and "Today's meeting" not in m.screen


def test_next_meeting_day_time_and_place(phone: Callable[[str], Phone]) -> None:
    p = phone(MEMBER)
    p.dial()
    body = p.choose("Next meeting")
    assert body.startswith("CON Next meeting: Tuesday") and "14:00" in body and "Kondele church hall" in body


def test_azerbaijani_home_keeps_her_full_letters_and_pages(phone: Callable[[str], Phone]) -> None:
    """Full letters (her group's style): the home menu needs two 80-character screens
    and stays in ə, ğ, ş rather than turn plain on this screen alone (#11)."""
    p = phone(AZ_MEMBER)
    first = p.dial()
    assert first.startswith("CON 1. Əmanətim") and "\n98. " in first
    assert p.send("98") != first and p.send("0") == first


@pytest.mark.parametrize("where", ["member", "group"])
def test_azerbaijani_home_in_plain_letters_fits_one_screen(
        phone: Callable[[str], Phone], services: Services, where: str) -> None:
    """Plain letters, her own choice or her group's: 160 GSM-7 characters a screen, one page."""
    with services.db.transaction() as s:
        m = s.scalars(select(Member).where(Member.phone == AZ_MEMBER)).one()
        if where == "member":
            m.plain_letters = True
        else:
            m.memberships[0].group.plain_letters = True
    first = phone(AZ_MEMBER).dial()
    assert first.startswith("CON 1. Emanetim") and "\n98. " not in first


def test_russian_home_pages_with_98_and_back_with_0(
        phone: Callable[[str], Phone], services: Services) -> None:
    """Cyrillic stays Cyrillic (plain letters would change the script), so it pages."""
    with services.db.transaction() as s:
        s.scalars(select(Member).where(Member.phone == AZ_MEMBER)).one().language = "ru"
    p = phone(AZ_MEMBER)
    first = p.dial()
    assert first.startswith("CON 1. ") and "\n98. " in first and not first.isascii()
    second = p.send("98")
    assert second != first and not second.startswith("CON 1.")
    assert p.send("0") == first


def test_zero_goes_back_and_double_zero_goes_home(phone: Callable[[str], Phone]) -> None:
    p = phone(MEMBER)
    home = p.dial()
    p.choose("Ask for help")
    p.choose("Legal aid")
    assert "Legal aid: a coordinator will call you" in p.screen
    assert "What help do you need?" in p.send("0")
    p.choose("Other help")
    assert p.send("00") == home


def test_invalid_choice_reprompts_with_the_reason(phone: Callable[[str], Phone]) -> None:
    p = phone(MEMBER)
    p.dial()
    body = p.send("42")
    assert body.startswith("CON Please choose one of the numbers shown.\n1. My savings")


def test_dialled_shortcut_arrives_as_first_text(phone: Callable[[str], Phone]) -> None:
    p = phone(MEMBER)
    assert p.dial("4").startswith("CON Next meeting:")
    p = phone(MEMBER)
    assert "Counselling: a coordinator will call you" in p.dial("6*3")


def test_repeated_request_gets_the_same_screen_and_changes_nothing(
        phone: Callable[[str], Phone], services: Services) -> None:
    p = phone(MEMBER)
    p.dial()
    p.choose("Ask for help")
    p.choose("Business advice")
    done = p.choose("Yes, send it")
    assert done.startswith("END Request H")
    assert p.repeat() == done
    with services.db.transaction() as s:
        assert len(s.scalars(select(SupportRequest)).all()) == 1


def test_session_is_bound_to_its_phone(phone: Callable[[str], Phone], client: FlaskClient) -> None:
    p = phone(MEMBER)
    p.dial()
    p.choose("Ask for help")
    thief = Phone(client, CHAIR, session_id=p.session_id, typed=list(p.typed))
    assert thief.send("2").startswith("END This session belongs to another phone")
    assert "Legal aid: a coordinator will call you" in p.send("2")


def test_who_is_calling_is_read_once_per_minute(phone: Callable[[str], Phone], services: Services) -> None:
    phone(MEMBER).dial()
    assert 0 < services.redis.ttl(f"ussd:w:{MEMBER}") <= 60
    with services.db.transaction() as s:  # she leaves; a new dial within the minute still knows her
        s.scalars(select(Member).where(Member.phone == MEMBER)).one().status = Status.INACTIVE
    assert phone(MEMBER).dial().startswith("CON ")
    services.redis.delete(f"ussd:w:{MEMBER}")  # the minute is over
    assert phone(MEMBER).dial().startswith("END This number is not registered.")


def test_unregistered_phone_gets_a_polite_end(phone: Callable[[str], Phone]) -> None:
    assert phone("+254799999999").dial().startswith("END This number is not registered.")


# -- resume ---------------------------------------------------------------------------------

def test_dropped_session_resumes_within_two_minutes(
        phone: Callable[[str], Phone], services: Services) -> None:
    p = phone(MEMBER)
    p.dial()
    p.choose("Ask for help")
    assert 0 < services.redis.ttl(f"ussd:r:{MEMBER}") <= 120
    again = p.dial()  # the network dropped her; she redials
    assert again.startswith("CON Welcome back. 00 for the main menu.\nWhat help do you need?")
    assert "Legal aid: a coordinator will call you" in p.send("2")


def test_no_resume_at_a_pin_or_confirmation_screen(phone: Callable[[str], Phone], services: Services) -> None:
    give_pin(services, MEMBER)
    p = phone(MEMBER)
    p.dial()
    p.choose("Ask for help")
    p.choose("Legal aid")  # the confirmation screen
    assert p.dial().startswith("CON 1. My savings")
    p.dial()
    p.choose("Settings")
    p.choose("Change PIN")  # a PIN screen
    assert p.dial().startswith("CON 1. My savings")


def test_no_resume_after_the_session_ended(phone: Callable[[str], Phone]) -> None:
    p = phone(MEMBER)
    p.dial()
    p.choose("Ask for help")
    p.choose("Other help")
    p.choose("Yes, send it")
    assert p.dial().startswith("CON 1. My savings")


# -- ask for help ---------------------------------------------------------------------------

def test_ask_for_help_stores_request_and_sends_references(
        phone: Callable[[str], Phone], services: Services) -> None:
    p = phone(MEMBER)
    p.dial()
    p.choose("Ask for help")
    p.choose("Legal aid")
    body = p.choose("Yes, send it")
    with services.db.transaction() as s:
        req = s.scalars(select(SupportRequest)).one()
        assert (req.category.value, req.status.value, req.member.phone) == ("legal", "new", MEMBER)
        ref = req.ref
    assert body == f"END Request {ref} is sent. A coordinator will call you. We sent you an SMS."
    (to_her,) = outbox(services, MEMBER)
    assert ref in to_her.text and "Legal aid" not in to_her.text  # a phone is often shared: never the category
    assert to_her.text == f"Kassa: your request {ref} is received. A coordinator will call you."
    (to_coordinator,) = outbox(services, "+254712000099")
    assert ref in to_coordinator.text and "Faith Njeri" in to_coordinator.text and MEMBER in to_coordinator.text


def test_help_in_azerbaijani_reaches_the_azerbaijani_coordinator(
        phone: Callable[[str], Phone], services: Services) -> None:
    p = phone(AZ_MEMBER)
    p.dial()
    p.choose("Kömək istə")
    p.choose("Hüquqi dəstək")
    p.choose("Bəli, göndər")
    assert p.ended
    (note,) = outbox(services, "+994501110099")
    assert "Nərmin Hüseynova" in note.text and note.language == "az"


# -- settings -------------------------------------------------------------------------------

def test_change_language(phone: Callable[[str], Phone], services: Services) -> None:
    p = phone(MEMBER)
    p.dial()
    p.choose("Settings")
    p.choose("Language")
    body = p.choose("Azərbaycanca")
    assert body.startswith("CON Dil yadda saxlanıldı.\n1. Əmanətim")  # her group's full letters
    assert member(services, MEMBER).language == "az"
    assert p.dial().startswith("CON 1. Əmanətim")  # the next dial speaks it too


# -- PIN --------------------------------------------------------------------------------------

def test_first_money_action_sets_the_pin_twice(phone: Callable[[str], Phone], services: Services) -> None:
    p = phone(MEMBER)
    p.dial()
    p.choose("Settings")
    body = p.choose("Change PIN")
    assert body.startswith("CON First choose a PIN to protect your money.")
    assert p.send("12").startswith("CON A PIN is 4 digits.")
    assert p.send("1111").startswith("CON That PIN is too easy to guess.")
    assert p.send("2580").startswith("CON Enter the same PIN again.")
    assert p.send("2581").startswith("CON The two PINs were different. Choose again.")
    p.send("2580")
    assert p.send("2580").startswith("CON PIN saved.")
    saved = member(services, MEMBER)
    assert saved.pin_hash is not None
    assert saved.pin_hash.startswith("$argon2id$") and "2580" not in saved.pin_hash
    assert pin_matches(saved.pin_hash, "2580", PEPPER) and not pin_matches(saved.pin_hash, "2580", "other")


def test_change_pin(phone: Callable[[str], Phone], services: Services) -> None:
    give_pin(services, MEMBER)
    p = phone(MEMBER)
    p.dial()
    p.choose("Settings")
    p.choose("Change PIN")
    assert p.send("2580").startswith("CON Choose a new 4-digit PIN.")
    p.walk("3691", "3691")
    assert p.screen.startswith("CON PIN saved.")
    assert pin_matches(member(services, MEMBER).pin_hash or "", "3691", PEPPER)


def test_three_wrong_pins_lock_until_the_chair_resets(
        phone: Callable[[str], Phone], services: Services) -> None:
    give_pin(services, MEMBER)
    give_pin(services, CHAIR, "1357")
    p = phone(MEMBER)
    p.dial()
    p.choose("Settings")
    p.choose("Change PIN")
    assert p.send("0001").startswith("CON Wrong PIN. Tries left: 2.")
    assert p.send("0002").startswith("CON Wrong PIN. Tries left: 1.")
    assert p.send("0003").startswith("END Your PIN is locked")
    assert member(services, MEMBER).pin_locked
    p.dial()
    p.choose("Settings")
    assert p.choose("Change PIN").startswith("END Your PIN is locked")  # even before she types it

    chair = phone(CHAIR)
    chair.dial()
    chair.choose("Reset a member's PIN")
    assert chair.send("9").startswith("CON No member number 9 in your group.")
    assert chair.send("2").startswith("CON You cannot reset your own PIN.")
    assert chair.send("3").startswith("CON Faith Njeri: reset the PIN? Enter your own PIN to confirm.")
    assert chair.send("1357") == "END Faith Njeri: the PIN is reset."
    m = member(services, MEMBER)
    assert m.pin_hash is None and not m.pin_locked and m.pin_failures == 0
    assert "Dial *384*123# to choose a new one" in outbox(services, MEMBER)[-1].text


def test_only_the_chair_resets_pins(phone: Callable[[str], Phone]) -> None:
    p = phone(MEMBER)
    p.dial("8")  # past her last item: not on her menu
    assert p.screen.startswith("CON Please choose one of the numbers shown.")


def test_coordinator_resets_a_pin_from_the_cli(runner: FlaskCliRunner, services: Services,
                                               demo: DemoPeople) -> None:
    give_pin(services, MEMBER)
    with services.db.transaction() as s:
        m = s.scalars(select(Member).where(Member.phone == MEMBER)).one()
        m.pin_locked, m.pin_failures = True, 3
    result = runner.invoke(args=["members", "reset-pin", "0712000003", "--country", "KE"])
    assert result.exit_code == 0, result.output
    assert "reset" in result.output
    m = member(services, MEMBER)
    assert m.pin_hash is None and not m.pin_locked
    assert runner.invoke(args=["members", "reset-pin", "+254799999999"]).exit_code != 0


def test_pin_digits_never_reach_logs_redis_or_database(
        phone: Callable[[str], Phone], services: Services, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    p = phone(MEMBER)
    p.dial()
    p.choose("Settings")
    p.choose("Change PIN")
    p.walk("7394", "7394")
    assert p.screen.startswith("CON PIN saved.")
    assert "7394" not in caplog.text and "#" in caplog.text
    for key in services.redis.keys("ussd:*"):
        assert b"7394" not in cast(bytes, services.redis.get(key))
    with services.db.transaction() as s:
        assert "7394" not in str(s.scalar(select(Member.pin_hash).where(Member.phone == MEMBER)))


def test_events_endpoint_logs_a_scrubbed_record(client: FlaskClient,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    r = client.post("/ussd/africastalking/events", data={
        "sessionId": "ATUid_1", "status": "Success", "durationInMillis": "5000", "hopsCount": "4",
        "input": "8*2*7394*7394", "lastAppResponse": "CON PIN saved.", "phoneNumber": MEMBER})
    assert r.status_code == 200
    assert "7394" not in caplog.text and "8*2*####*####" in caplog.text


def test_events_endpoint_needs_the_token(make_app: MakeApp) -> None:
    client = make_app(WEBHOOK_TOKEN="s3cret").test_client()
    assert client.post("/ussd/africastalking/events", data={"sessionId": "x"}).status_code == 403
    assert client.post("/ussd/africastalking/events?token=s3cret", data={"sessionId": "x"}).status_code == 200


def test_token_enforced_on_every_hop(make_app: MakeApp, demo: DemoPeople) -> None:
    client = make_app(WEBHOOK_TOKEN="s3cret").test_client()
    p = Phone(client, MEMBER, query={"token": "s3cret"})
    p.dial()
    p.query = {"token": "nope"}
    r = client.post("/ussd/africastalking?token=nope", data={"sessionId": p.session_id, "phoneNumber": MEMBER,
                                                             "text": "1"})
    assert r.status_code == 403 and r.get_data(as_text=True).startswith("END ")


def test_menus_import_neither_flask_nor_a_provider_sdk() -> None:
    import subprocess
    import sys

    code = ("import sys, menus; menus.build_machine(); import menus.driver; "
            "bad = {'flask', 'africastalking', 'twilio'} & {m.split('.')[0] for m in sys.modules}; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_coordinator_lists_and_closes_support_requests(
        phone: Callable[[str], Phone], runner: FlaskCliRunner, services: Services) -> None:
    for number, label in ((MEMBER, "Legal aid"), (AZ_MEMBER, "Hüquqi dəstək")):
        p = phone(number)
        p.dial()
        p.choose("Ask for help" if number == MEMBER else "Kömək istə")
        p.choose(label)
        p.send("1")
    listed = runner.invoke(args=["support", "list", "--coordinator", "+254712000099"])
    assert listed.exit_code == 0, listed.output
    assert "Faith Njeri" in listed.output and "Nərmin" not in listed.output  # only her groups
    ref = listed.output.split()[0]
    assert runner.invoke(args=["support", "close", ref]).exit_code == 0
    assert ref not in runner.invoke(args=["support", "list"]).output
    assert ref in runner.invoke(args=["support", "list", "--all"]).output


def test_next_meeting_of_a_fortnightly_group_skips_its_off_week(
        phone: Callable[[str], Phone], services: Services) -> None:
    """Screen and reminders read one calendar: a fortnightly group meets on its anchor's weeks."""
    import datetime as dt

    from groups.models import Group
    from groups.schedule import Rhythm, next_meeting
    from i18n import translator

    weekly = next_meeting(Rhythm("Africa/Nairobi", 1, dt.time(14, 0)), dt.datetime.now(dt.UTC))
    fortnight_later = weekly + dt.timedelta(weeks=1)
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        group.meeting_every_weeks, group.meeting_anchor = 2, fortnight_later
    p = phone(MEMBER)
    p.dial()
    body = p.choose("Next meeting")
    en = translator("en")
    assert en.date(fortnight_later, "EEEE d MMMM") in body, body
    assert en.date(weekly, "EEEE d MMMM") not in body
