"""Commands through the SMS webhook: who may send what, replies in the sender's language."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from groups.models import Member
from i18n import translator
from tests.smskit import at_sms, outbox, texts_to
from text.gsm7 import shape

if TYPE_CHECKING:
    from flask.testing import FlaskClient, FlaskCliRunner

    from services import Services
    from tests.fixture_types import DemoPeople

TREASURER, CHAIR, MEMBER, OTHER = "+254712000001", "+254712000002", "+254712000003", "+254712000004"
AZ_TREASURER, AZ_CHAIR, AZ_MEMBER = "+994501110001", "+994501110002", "+994501110003"
COORDINATOR = "+254712000099"


def member(services: Services, phone: str) -> Member:
    with services.db.transaction() as s:
        return s.scalars(select(Member).where(Member.phone == phone)).one()


def reply(client: FlaskClient, services: Services, phone: str, text: str) -> str:
    at_sms(client, phone, text)
    return texts_to(services, phone)[-1]


def test_help_lists_what_each_role_may_send(client: FlaskClient, services: Services,
                                            demo: DemoPeople) -> None:
    member_help = reply(client, services, MEMBER, "HELP")
    assert "BAL" in member_help and "STOP" in member_help and "SAVE" not in member_help
    at_sms(client, TREASURER, "help")
    treasurer_help = "\n".join(texts_to(services, TREASURER))  # her card may take two SMS of one segment
    assert all(shape(text).segments == 1 for text in texts_to(services, TREASURER))
    assert "SAVE" in treasurer_help and "UNDO" in treasurer_help and "APPROVE" not in treasurer_help
    before = len(texts_to(services, CHAIR))
    at_sms(client, CHAIR, "Help")
    chair_help = "\n".join(texts_to(services, CHAIR)[before:])  # her card may take two SMS too
    assert "APPROVE" in chair_help and "RULE" in chair_help


def test_help_in_azerbaijani_by_alias(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    text = reply(client, services, AZ_MEMBER, "kömək")
    assert "əmanətiniz və borcunuz" in text


@pytest.mark.parametrize("phone, text, expected", [
    (MEMBER, "SAVE 3 500", "Sorry, only the treasurer can send SAVE."),
    (CHAIR, "UNDO R1", "Sorry, only the treasurer can send UNDO."),
    (TREASURER, "APPROVE L1", "Sorry, only the chair can send APPROVE."),
    (COORDINATOR, "SAVE 3 500", "Sorry, only the treasurer can send SAVE."),
    (AZ_MEMBER, "yığım 3 500", "Bağışlayın, SAVE əmrini yalnız xəzinədar göndərə bilər."),
    (AZ_TREASURER, "təsdiq L1", "Bağışlayın, APPROVE əmrini yalnız sədr göndərə bilər."),
])
def test_commands_are_refused_outside_the_senders_role(
        client: FlaskClient, services: Services, demo: DemoPeople, phone: str, text: str,
        expected: str) -> None:
    assert reply(client, services, phone, text) == expected
    assert len(outbox(services)) == 1  # the refusal, nothing else


def test_a_treasurer_cannot_name_another_groups_member(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    text = reply(client, services, TREASURER, f"SAVE 3 500 {AZ_MEMBER} 500")
    assert text == f"SAVE: item 2 ({AZ_MEMBER} 500): no member {AZ_MEMBER} in your group. Nothing was recorded."
    assert len(outbox(services)) == 1


def test_a_treasurer_with_an_unknown_number_is_told_which_item(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    text = reply(client, services, AZ_TREASURER, "yığım 3 5, 77 5")
    assert text == "SAVE: 2 nömrəli sətir (77 5): qrupunuzda 77 nömrəli üzv yoxdur. Heç nə yazılmadı."


def test_a_bad_amount_is_named_in_the_reply(client: FlaskClient, services: Services,
                                            demo: DemoPeople) -> None:
    text = reply(client, services, TREASURER, "SAVE 3 500 4 5OO")
    assert text == 'SAVE: item 2 (4 5OO): "5OO" is not an amount. Nothing was recorded.'


def test_unknown_command_names_the_word(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    assert reply(client, services, MEMBER, "PAY 500") == 'Sorry, "PAY" is not a Kassa command. Send HELP for the list.'
    assert reply(client, services, AZ_MEMBER, "ödəniş") == (
        'Bağışlayın, "ödəniş" Kassa əmri deyil. Siyahı üçün HELP göndərin.')


def test_lang_changes_the_language_of_every_later_reply(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    assert reply(client, services, MEMBER, "LANG az") == "Bundan sonra Kassa sizə bu dildə yazacaq: Azərbaycanca."
    assert member(services, MEMBER).language == "az"
    assert "bu siyahı" in reply(client, services, MEMBER, "HELP")
    assert reply(client, services, MEMBER, "dil english") == "Kassa will write to you in English."
    assert member(services, MEMBER).language == "en"
    assert reply(client, services, MEMBER, "LANG xx").startswith("LANG: write one of en, az")
    assert member(services, MEMBER).language == "en"


@pytest.mark.parametrize("phone, stop, start, said", [
    (MEMBER, "STOP", "start", "no more reminders"),
    (AZ_MEMBER, "dayan", "BAŞLA", "Daha xatırlatma"),
])
def test_stop_and_start(client: FlaskClient, services: Services, demo: DemoPeople, phone: str, stop: str,
                        start: str, said: str) -> None:
    assert said in reply(client, services, phone, stop)
    assert member(services, phone).opted_out is True
    reply(client, services, phone, start)
    assert member(services, phone).opted_out is False


def test_replies_are_tracked_outbox_rows_with_exact_encoding(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    reply(client, services, AZ_MEMBER, "kömək")
    reply(client, services, MEMBER, "HELP")
    az, en = outbox(services)
    assert (az.encoding, az.priority, az.kind, az.language) == ("ucs2", 0, "reply", "az")
    assert (en.encoding, en.language) == ("gsm7", "en")
    assert az.segments >= 2 and en.segments >= 1


def test_terminal_phone_texts_through_the_endpoint(
        runner: FlaskCliRunner, services: Services, demo: DemoPeople) -> None:
    result = runner.invoke(args=["sms", TREASURER, "HELP"])
    assert result.exit_code == 0, result.output
    assert f"--> {TREASURER} (reply, gsm7," in result.output and "SAVE" in result.output


def test_lang_by_sms_changes_her_next_ussd_screen(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    """The USSD caller cache (60 s) is dropped when LANG changes her language by SMS."""
    from tests.ussd_phone import Phone

    phone = Phone(client, "+254712000003")
    assert "My savings" in phone.dial()
    at_sms(client, "+254712000003", "LANG az")
    phone.dial()
    assert phone.option(translator("az").gettext("My savings")) == "1"  # her home is in Azerbaijani
