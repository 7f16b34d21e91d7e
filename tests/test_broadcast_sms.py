"""``BC`` by SMS: a coordinator broadcasts within her scope, is told the preview, and sends on ``YES``."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import time_machine
from rq import Queue
from sqlalchemy import func, select

from outreach import broadcast as bc
from outreach.models import Broadcast
from tests.smskit import at_sms, outbox, texts_to

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from services import Services
    from tests.fixture_types import DemoPeople

JOSEPH, ELVIN, MEMBER = "+254712000099", "+994501110099", "+254712000003"


def _count(services: Services) -> int | None:
    with services.db.transaction() as s:
        return s.scalar(select(func.count(Broadcast.id)))


def _status(services: Services, broadcast_id: int = 1) -> str:
    with services.db.transaction() as s:
        return s.get_one(Broadcast, broadcast_id).status.value


def test_bc_previews_and_waits_for_yes_before_anything_goes_out(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, JOSEPH, "BC UPENDO Training moved to Friday 10:00", msg_id="ATXid_bc1")
    (answer,) = texts_to(services, JOSEPH)
    assert answer.startswith("Announcement B1 would go to 4 people: 4 SMS, about KES")
    assert answer.endswith("Reply YES within 10 minutes to send it.")
    assert Queue("default", connection=services.redis).job_ids == [] and _status(services) == "draft"
    bc.run_fan_out(services, 1)  # a fan-out run before YES writes nothing
    assert outbox(services, kind="broadcast") == []

    at_sms(client, JOSEPH, "yes", msg_id="ATXid_yes1")
    assert texts_to(services, JOSEPH)[-1] == "Announcement B1 is being sent to 4 people."
    assert Queue("default", connection=services.redis).job_ids == [services.job_id("fanout-1-0")]
    bc.run_fan_out(services, 1)
    sent = outbox(services, kind="broadcast")
    assert len(sent) == 4 and sent[0].text == "Hand in Hand Kenya: Training moved to Friday 10:00"

    at_sms(client, JOSEPH, "YES", msg_id="ATXid_yes2")  # nothing waits any more
    assert texts_to(services, JOSEPH)[-1] == "No announcement is waiting for YES. Send BC first."
    at_sms(client, JOSEPH, "YES", msg_id="ATXid_yes1")  # the provider redelivers the first YES: nothing new
    assert len(outbox(services, kind="broadcast")) == 4 and len(texts_to(services, JOSEPH)) == 3


def test_yes_after_ten_minutes_sends_nothing(client: FlaskClient, services: Services,
                                             demo: DemoPeople) -> None:
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        at_sms(client, JOSEPH, "BC UPENDO Meeting moved", msg_id="ATXid_late1")
    with time_machine.travel(start + dt.timedelta(minutes=11), tick=False):
        at_sms(client, JOSEPH, "YES", msg_id="ATXid_late2")
    assert texts_to(services, JOSEPH)[-1] == (
        "Announcement B1 waited more than 10 minutes and was not sent. Send BC again.")
    assert _status(services) == "cancelled"
    assert Queue("default", connection=services.redis).job_ids == []
    bc.run_fan_out(services, 1)
    assert outbox(services, kind="broadcast") == []


def test_yes_sends_only_the_newest_bc(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, JOSEPH, "BC UPENDO First text")
    at_sms(client, JOSEPH, "BC UPENDO Second text")
    at_sms(client, JOSEPH, "YES")
    assert _status(services, 1) == "cancelled" and _status(services, 2) == "sending"
    bc.run_fan_out(services, 2)
    assert {m.text for m in outbox(services, kind="broadcast")} == {"Hand in Hand Kenya: Second text"}


def test_a_member_cannot_say_yes_for_a_coordinator(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, JOSEPH, "BC UPENDO hello")
    at_sms(client, MEMBER, "YES")
    assert "coordinator" in texts_to(services, MEMBER)[-1] and _status(services) == "draft"


def test_the_same_sms_delivered_twice_makes_one_broadcast(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, JOSEPH, "BC ALL Meeting", msg_id="ATXid_same")
    at_sms(client, JOSEPH, "BC ALL Meeting", msg_id="ATXid_same")
    assert _count(services) == 1


def test_outside_her_scope_is_refused_in_her_language_and_nothing_is_made(
        client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, ELVIN, "BC UPENDO Salam")
    assert texts_to(services, ELVIN) == ["UPENDO qrupu sizin qruplarınızdan deyil."]
    at_sms(client, JOSEPH, "BC NOPE hello")
    assert texts_to(services, JOSEPH)[-1] == "There is no group NOPE."
    assert _count(services) == 0


def test_a_member_cannot_broadcast(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, MEMBER, "BC UPENDO hello")
    assert "coordinator" in texts_to(services, MEMBER)[-1] and _count(services) == 0


def test_bc_without_a_message_says_so(client: FlaskClient, services: Services, demo: DemoPeople) -> None:
    at_sms(client, JOSEPH, "BC UPENDO")
    assert texts_to(services, JOSEPH)[-1] == "The message is empty." and _count(services) == 0
