"""Inbound SMS webhooks: stored before the 200, replays change nothing, requests authenticated."""
from __future__ import annotations

from typing import TYPE_CHECKING

from twilio.request_validator import RequestValidator

from messaging.models import InStatus
from tests.smskit import at_sms, inbox, outbox, run_jobs, texts_to

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from commands.context import Context, Outcome
    from commands.parser import Parsed
    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

TREASURER, MEMBER, CHAIR = "+254712000001", "+254712000003", "+254712000002"
AZ_MEMBER = "+994501110003"
TOKEN = "tw-secret"


def test_stored_before_ack_and_three_replays_have_one_effect(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    for _ in range(3):
        assert at_sms(client, MEMBER, "HELP", msg_id="ATXid_same").status_code == 200
    rows = inbox(services)
    assert [(r.provider, r.provider_message_id, r.status) for r in rows] == [
        ("africastalking", "ATXid_same", InStatus.DONE)]
    assert len(texts_to(services, MEMBER)) == 1  # one reply, not three


def test_the_command_runs_in_a_job_after_the_ack(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    assert at_sms(client, MEMBER, "HELP", run=False).status_code == 200
    assert [r.status for r in inbox(services)] == [InStatus.RECEIVED] and outbox(services) == []
    run_jobs(services)
    assert [r.status for r in inbox(services)] == [InStatus.DONE] and len(texts_to(services, MEMBER)) == 1


def test_same_id_from_two_providers_are_two_messages(
        client: FlaskClient, make_app: MakeApp, services: Services, demo: DemoPeople) -> None:
    at_sms(client, MEMBER, "HELP", msg_id="X1")
    client.post("/sms/twilio", data={"MessageSid": "X1", "From": MEMBER, "Body": "HELP"})
    assert len(inbox(services)) == 2


def _twilio_form(sid: str = "SM1", body: str = "HELP", phone: str = MEMBER) -> dict[str, str]:
    return {"MessageSid": sid, "AccountSid": "AC1", "From": phone, "To": "+15005550006", "Body": body,
            "NumMedia": "0"}


def _signed(url: str, form: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form)}


def test_twilio_answers_empty_twiml_and_replies_through_the_outbox(
        make_app: MakeApp, demo: DemoPeople) -> None:
    app = make_app(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_URL="https://kassa.example.org")
    client, services = app.test_client(), app.extensions["kassa"]
    form = _twilio_form(sid="SM3")
    for _ in range(3):
        response = client.post("/sms/twilio", data=form, headers=_signed("https://kassa.example.org/sms/twilio", form))
        run_jobs(services)
        assert response.mimetype == "application/xml"
        assert response.get_data(as_text=True) == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    assert len(inbox(services)) == 1 and len(texts_to(services, MEMBER)) == 1


def test_unregistered_number_gets_one_reply_a_day(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    for i in range(4):
        assert at_sms(client, "+254799999999", f"SAVE 1 {i}00").status_code == 200
    replies = texts_to(services, "+254799999999")
    assert len(replies) == 1 and "not registered" in replies[0]
    assert len(inbox(services)) == 4  # every message is still kept


def test_a_stranger_is_answered_in_her_countrys_language(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, "+994509999999", "salam")
    from i18n import translator

    expected = translator("az").gettext("This number is not registered with Kassa. "
                                        "Please ask your group's treasurer or coordinator.")
    assert "Kassa" in expected and expected != translator("en").gettext(
        "This number is not registered with Kassa. Please ask your group's treasurer or coordinator.")
    assert texts_to(services, "+994509999999") == [expected]


def test_a_crash_leaves_the_message_for_the_sweeper(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    """A command that crashes (here one registered for the test) keeps the SMS for a later run."""
    import datetime as dt

    from commands.parser import Grammar
    from commands.registry import ANYONE, REGISTRY, Command, register
    from messaging.sweeper import sweep

    calls = []

    def flaky(ctx: Context, parsed: Parsed) -> Outcome:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        from commands.context import Outcome
        return Outcome("ok")

    register(Command("FLAKY", Grammar.NONE, frozenset({ANYONE}), flaky, "FLAKY"))
    try:
        assert at_sms(client, MEMBER, "FLAKY").status_code == 200  # stored: acknowledged
        [row] = inbox(services)
        assert row.status == InStatus.RECEIVED and row.attempts == 1 and "hiccup" in (row.last_error or "")
        assert outbox(services) == []
        sweep(services, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
        run_jobs(services)
        sweep(services, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))  # nothing left
        run_jobs(services)
    finally:
        REGISTRY.pop("FLAKY")
    assert inbox(services)[0].status == InStatus.DONE and len(calls) == 2
    assert texts_to(services, MEMBER) == ["ok"]


def test_a_command_that_always_crashes_is_set_aside_after_five_tries(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    import datetime as dt

    from commands.inbox import process
    from commands.parser import Grammar
    from commands.registry import ANYONE, REGISTRY, Command, register
    from messaging.inbound import MAX_ATTEMPTS

    def broken(ctx: Context, parsed: Parsed) -> Outcome:
        raise RuntimeError("bug")

    register(Command("BROKEN", Grammar.NONE, frozenset({ANYONE}), broken, "BROKEN"))
    try:
        at_sms(client, MEMBER, "BROKEN")
        inbox_id = inbox(services)[0].id
        for _ in range(MAX_ATTEMPTS):
            process(services, inbox_id)
    finally:
        REGISTRY.pop("BROKEN")
    [row] = inbox(services)
    assert (row.status, row.attempts) == (InStatus.FAILED, MAX_ATTEMPTS)
    [apology] = outbox(services)  # she is told, once, not left waiting for a receipt
    assert apology.to_phone == MEMBER and apology.kind == "reply" and '"BROKEN"' in apology.text
    process(services, inbox_id)  # a late replay changes nothing
    assert len(outbox(services)) == 1
    run_jobs(services)
    from messaging.sweeper import sweep

    assert sweep(services, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)) == 0
