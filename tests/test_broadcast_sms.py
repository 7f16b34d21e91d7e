"""``BC`` by SMS: a coordinator broadcasts within her scope and is told the preview."""
from __future__ import annotations

from rq import Queue
from sqlalchemy import func, select

from outreach import broadcast as bc
from outreach.models import Broadcast
from tests.smskit import at_sms, outbox, texts_to

JOSEPH, ELVIN, MEMBER = "+254712000099", "+994501110099", "+254712000003"


def _count(services):
    with services.db.transaction() as s:
        return s.scalar(select(func.count(Broadcast.id)))


def test_coordinator_broadcasts_to_her_group_and_gets_the_preview(client, services, demo):
    at_sms(client, JOSEPH, "BC UPENDO Training moved to Friday 10:00", msg_id="ATXid_bc1")
    (answer,) = texts_to(services, JOSEPH)
    assert answer.startswith("Announcement B1 goes to 4 people: 4 SMS, about KES")
    assert Queue("default", connection=services.redis).job_ids == [services.job_id("fanout-1-0")]
    bc.run_fan_out(services, 1)
    sent = outbox(services, kind="broadcast")
    assert len(sent) == 4 and sent[0].text == "Hand in Hand Kenya: Training moved to Friday 10:00"


def test_the_same_sms_delivered_twice_makes_one_broadcast(client, services, demo):
    at_sms(client, JOSEPH, "BC ALL Meeting", msg_id="ATXid_same")
    at_sms(client, JOSEPH, "BC ALL Meeting", msg_id="ATXid_same")
    assert _count(services) == 1


def test_outside_her_scope_is_refused_in_her_language_and_nothing_is_made(client, services, demo):
    at_sms(client, ELVIN, "BC UPENDO Salam")
    assert texts_to(services, ELVIN) == ["UPENDO qrupu sizin qruplarınızdan deyil."]
    at_sms(client, JOSEPH, "BC NOPE hello")
    assert texts_to(services, JOSEPH)[-1] == "There is no group NOPE."
    assert _count(services) == 0


def test_a_member_cannot_broadcast(client, services, demo):
    at_sms(client, MEMBER, "BC UPENDO hello")
    assert "coordinator" in texts_to(services, MEMBER)[-1] and _count(services) == 0


def test_bc_without_a_message_says_so(client, services, demo):
    at_sms(client, JOSEPH, "BC UPENDO")
    assert texts_to(services, JOSEPH)[-1] == "The message is empty." and _count(services) == 0
