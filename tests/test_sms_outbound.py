"""Sending: the exact HTTP request each provider would receive, error tables, retries,
delivery reports, the sweeper after Redis loses its queues, priorities and the rate limit."""
from __future__ import annotations

import base64
import datetime as dt
import json
from typing import TYPE_CHECKING, Any, cast

import pytest
import responses
from rq import Queue

from messaging.dispatch import MAX_ATTEMPTS
from messaging.models import OutStatus, Priority
from messaging.outbox import queue_sms
from messaging.ratelimit import RateLimiter
from messaging.sender import TransientSendError, deliver
from messaging.sweeper import sweep
from providers import Outgoing, SendError
from providers.africastalking.send import AfricasTalkingChannel
from providers.twilio.send import TwilioChannel
from tests.smskit import outbox, posted_form, run_jobs
from text.plain import Letters

if TYPE_CHECKING:
    from requests import PreparedRequest

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

AT_URL = "https://api.africastalking.com/version1/messaging"
TW_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
AT_CONFIG = dict(SMS_BACKEND="africastalking", AT_USERNAME="kassa", AT_API_KEY="k3y", AT_SENDER_ID="KASSA",
                 SMS_RATE_PER_SECOND=1000)
TW_CONFIG = dict(SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="AC123", TWILIO_AUTH_TOKEN="tok",
                 TWILIO_FROM="+15005550006", PUBLIC_URL="https://kassa.example.org", SMS_RATE_PER_SECOND=1000)


def at_answer(code: int = 101, status: str = "Success", message_id: str = "ATXid_9") -> dict[str, Any]:
    return {"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: KES 0.8000", "Recipients": [
        {"statusCode": code, "number": "+254712000003", "status": status, "cost": "KES 0.8000",
         "messageId": message_id}]}}


def queue_one(services: Services, text: str = "Asante sana", priority: int = Priority.REPLY, kind: str = "reply",
              **kw: Any) -> int:
    with services.db.transaction() as s:
        return queue_sms(s, to=kw.pop("to", "+254712000003"), text=text, language="sw", kind=kind, letters=Letters.FULL,
                         priority=priority, **kw).id


@responses.activate
def test_africastalking_request_is_formed_as_the_api_expects(make_app: MakeApp) -> None:
    services = make_app(**AT_CONFIG).extensions["kassa"]
    responses.post(AT_URL, json=at_answer())
    oid = queue_one(services, text="Yığım: 5 AZN")
    run_jobs(services)
    [call] = responses.calls
    assert call.request.headers["apiKey"] == "k3y" and call.request.headers["Accept"] == "application/json"
    assert posted_form(call.request) == {"username": ["kassa"], "to": ["+254712000003"],
                                           "message": ["Yığım: 5 AZN"], "bulkSMSMode": ["1"], "from": ["KASSA"]}
    [row] = outbox(services)
    assert (row.id, row.status, row.provider, row.provider_id, row.attempts) == (
        oid, OutStatus.SENT, "africastalking", "ATXid_9", 1)


@responses.activate
def test_africastalking_bulk_asks_at_to_queue(make_app: MakeApp) -> None:
    services = make_app(**AT_CONFIG).extensions["kassa"]
    responses.post(AT_URL, json=at_answer())
    queue_one(services, priority=Priority.BULK, kind="broadcast")
    run_jobs(services)
    assert posted_form(responses.calls[0].request)["enqueue"] == ["1"]


@responses.activate
def test_africastalking_answer_as_text_is_still_read(make_app: MakeApp) -> None:
    """The SDK returns a str unless content-type is exactly application/json."""
    services = make_app(**AT_CONFIG).extensions["kassa"]
    responses.post(AT_URL, body=json.dumps(at_answer(message_id="ATXid_txt")),
                   content_type="application/json; charset=utf-8")
    queue_one(services)
    run_jobs(services)
    assert outbox(services)[0].provider_id == "ATXid_txt"


@responses.activate
def test_twilio_request_is_formed_as_the_api_expects(make_app: MakeApp) -> None:
    services = make_app(**TW_CONFIG).extensions["kassa"]
    responses.post(TW_URL, json={"sid": "SM42", "status": "queued"}, status=201)
    queue_one(services, text="Your savings: 500 KES")
    run_jobs(services)
    [call] = responses.calls
    assert call.request.headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok").decode()
    assert posted_form(call.request) == {"To": ["+254712000003"], "From": ["+15005550006"],
                                           "Body": ["Your savings: 500 KES"],
                                           "StatusCallback": ["https://kassa.example.org/sms/twilio/status"]}
    [row] = outbox(services)
    assert (row.status, row.provider, row.provider_id) == (OutStatus.SENT, "twilio", "SM42")


@pytest.mark.parametrize("code, permanent", [(21610, True), (21211, True), (20429, False), (30001, False)])
@responses.activate
def test_twilio_error_table(code: int, permanent: bool) -> None:
    status = 429 if code == 20429 else 400
    responses.post(TW_URL, json={"code": code, "message": "no", "status": status}, status=status)
    with pytest.raises(SendError) as err:
        TwilioChannel("AC123", "tok", "+15005550006").send(Outgoing(1, "+254712000003", "hi"))
    assert (err.value.code, err.value.permanent) == (str(code), permanent)


@pytest.mark.parametrize("code, permanent", [(403, True), (406, True), (405, False), (500, False)])
@responses.activate
def test_africastalking_recipient_status_table(code: int, permanent: bool) -> None:
    responses.post(AT_URL, json=at_answer(code=code, status="Failed"))
    with pytest.raises(SendError) as err:
        AfricasTalkingChannel("kassa", "k3y").send(Outgoing(1, "+254712000003", "hi"))
    assert (err.value.code, err.value.permanent) == (str(code), permanent)


def test_africastalking_refuses_a_malformed_number_before_any_http(make_app: MakeApp) -> None:
    with responses.RequestsMock() as mock:  # any HTTP call would fail this test
        with pytest.raises(SendError) as err:
            AfricasTalkingChannel("kassa", "k3y").send(Outgoing(1, "0712000003", "hi"))
        assert err.value.permanent and not mock.calls


@responses.activate
def test_permanent_failure_is_rejected_and_never_retried(make_app: MakeApp) -> None:
    services = make_app(**TW_CONFIG).extensions["kassa"]
    responses.post(TW_URL, json={"code": 21610, "message": "unsubscribed", "status": 400}, status=400)
    oid = queue_one(services)
    run_jobs(services)
    assert deliver(services, oid) == "skipped"  # a second run does nothing
    [row] = outbox(services)
    assert row.status == OutStatus.REJECTED and "21610" in (row.last_error or "") and len(responses.calls) == 1


@responses.activate
def test_transient_failure_backs_off_then_fails_after_max_attempts(make_app: MakeApp) -> None:
    services = make_app(**AT_CONFIG).extensions["kassa"]
    responses.post(AT_URL, body="gateway down", status=503)
    oid = queue_one(services)
    for attempt in range(1, MAX_ATTEMPTS):
        with pytest.raises(TransientSendError):
            deliver(services, oid)
        row = outbox(services)[0]
        assert (row.status, row.attempts) == (OutStatus.PENDING, attempt) and row.retry_at is not None
    assert deliver(services, oid) == "failed"
    assert outbox(services)[0].status == OutStatus.FAILED and len(responses.calls) == MAX_ATTEMPTS


@responses.activate
def test_rq_retries_a_transient_failure_with_backoff(make_app: MakeApp) -> None:
    services = make_app(**AT_CONFIG).extensions["kassa"]
    responses.post(AT_URL, body="gateway down", status=503)
    oid = queue_one(services)
    run_jobs(services)
    job = Queue("high", connection=services.redis).fetch_job(services.job_id(f"send-{oid}"))
    assert job is not None and job.get_status() == "scheduled" and job.retries_left == 4  # waits in the scheduler
    assert outbox(services)[0].status == OutStatus.PENDING


def test_console_backend_prints_and_marks_delivered(
        make_app: MakeApp, capsys: pytest.CaptureFixture[str]) -> None:
    services = make_app().extensions["kassa"]
    queue_one(services, text="Habari")
    run_jobs(services)
    assert "Habari" in capsys.readouterr().out
    assert outbox(services)[0].status == OutStatus.DELIVERED


def test_reminders_are_not_sent_to_a_member_who_sent_stop(services: Services, demo: DemoPeople) -> None:
    from sqlalchemy import update

    from groups.models import Member

    with services.db.transaction() as s:
        s.execute(update(Member).where(Member.phone == "+254712000003").values(opted_out=True))
        member_id = s.scalar(Member.__table__.select().with_only_columns(Member.id).where(
            Member.phone == "+254712000003"))
    queue_one(services, kind="reminder", priority=Priority.NOTICE, member_id=member_id)
    queue_one(services, kind="receipt", member_id=member_id)
    run_jobs(services)
    assert [(m.kind, m.status) for m in outbox(services)] == [
        ("reminder", OutStatus.REJECTED), ("receipt", OutStatus.DELIVERED)]


@responses.activate
def test_redis_flushed_with_pending_messages_sweeper_sends_each_exactly_once(make_app: MakeApp) -> None:
    services = make_app(**AT_CONFIG).extensions["kassa"]
    responses.post(AT_URL, json=at_answer())
    ids = [queue_one(services, text=f"receipt {i}", priority=Priority(i % 3)) for i in range(12)]
    services.redis.flushdb()  # a Redis restart: every queued job is gone
    run_jobs(services)
    assert len(responses.calls) == 0 and {m.status for m in outbox(services)} == {OutStatus.PENDING}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    assert sweep(services, later) == 12
    assert sweep(services, later) == 0  # the jobs are queued: a second sweep adds nothing
    run_jobs(services)
    assert sweep(services, later) == 0
    run_jobs(services)
    sent = sorted(posted_form(c.request)["message"][0] for c in responses.calls)
    assert sent == sorted(f"receipt {i}" for i in range(12))
    assert [m.status for m in outbox(services)] == [OutStatus.SENT] * len(ids)


def test_sweeper_leaves_rows_waiting_behind_a_busy_queue(services: Services) -> None:
    """Bulk rows sent by chunk jobs have no per-row job; while their queue still holds
    work they are waiting, not lost, and the sweeper adds nothing; once it drains, it does."""
    ids = [queue_one(services, text=f"news {i}", priority=Priority.BULK) for i in range(3)]
    services.redis.flushdb()
    services.queue("bulk").enqueue("jobs.sms.send_many", ids, job_id="chunk-1")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    assert sweep(services, later) == 0
    services.queue("bulk").empty()  # type: ignore[no-untyped-call]  # unannotated in rq; the chunk job lost with Redis
    assert sweep(services, later) == 3


def test_sweeper_leaves_fresh_rows_and_backoff_alone(services: Services) -> None:
    queue_one(services)
    services.redis.flushdb()
    assert sweep(services, dt.datetime.now(dt.UTC)) == 0  # written just now: its job may be coming


def test_sweeper_releases_a_send_interrupted_by_a_dead_worker(services: Services) -> None:
    from sqlalchemy import update

    from messaging.models import OutboxMessage

    oid = queue_one(services)
    services.redis.flushdb()
    with services.db.transaction() as s:
        s.execute(update(OutboxMessage).values(status=OutStatus.SENDING, attempts=1))
    assert sweep(services, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)) == 1
    run_jobs(services)
    [row] = outbox(services)
    assert (row.id, row.status, row.attempts) == (oid, OutStatus.DELIVERED, 2)


def test_replies_and_receipts_go_before_bulk(make_app: MakeApp, capsys: pytest.CaptureFixture[str]) -> None:
    services = make_app(SMS_RATE_PER_SECOND=1000).extensions["kassa"]
    for i in range(3):
        queue_one(services, text=f"broadcast {i}", priority=Priority.BULK, kind="broadcast")
    queue_one(services, text="reminder", priority=Priority.NOTICE, kind="reminder")
    queue_one(services, text="receipt", priority=Priority.REPLY, kind="receipt")
    run_jobs(services)
    printed = [line[2:] for line in capsys.readouterr().out.splitlines() if line.startswith("│ ")]
    assert printed == ["receipt", "reminder", "broadcast 0", "broadcast 1", "broadcast 2"]


def test_rate_limit_is_one_schedule_shared_by_every_worker(services: Services) -> None:
    """Two workers (two limiters on one Redis) get consecutive slots one step apart."""
    waits: list[float] = []
    first, second = (RateLimiter(services.redis, "twilio", rate=1.0, sleep=waits.append) for _ in range(2))
    for limiter in (first, second, first, second, first):
        limiter.wait()
    next_free = int(cast(bytes, services.redis.get("kassa:rate:twilio")))
    seconds, micros = services.redis.time()
    assert len(waits) == 4  # the first slot is now: no sleep
    assert all(b > a for a, b in zip(waits, waits[1:], strict=False)) and waits[-1] > 3.0
    assert next_free - (seconds * 1_000_000 + micros) > 4_000_000  # five sends booked one second apart
    other = RateLimiter(services.redis, "africastalking", rate=1.0, sleep=waits.append)
    assert other.reserve() == 0.0  # channels do not share a budget


@responses.activate
def test_a_delivery_report_that_overtakes_the_sender_is_applied(make_app: MakeApp) -> None:
    """Africa's Talking calls back before the send job has saved the message id."""
    app = make_app(**AT_CONFIG)
    services, client = app.extensions["kassa"], app.test_client()
    answers = []

    def send(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        answers.append(client.post("/sms/africastalking/delivery", data={"id": "ATXid_9", "status": "Success"}))
        return 201, {}, json.dumps(at_answer())

    responses.add_callback(responses.POST, AT_URL, callback=send)
    queue_one(services)
    run_jobs(services)
    assert [a.status_code for a in answers] == [200]
    assert outbox(services)[0].status == OutStatus.DELIVERED
    assert not services.redis.keys("kassa:dlr:*")  # taken


def test_a_report_for_an_unknown_message_changes_nothing(make_app: MakeApp) -> None:
    app = make_app(**AT_CONFIG)
    services, client = app.extensions["kassa"], app.test_client()
    queue_one(services)
    assert client.post("/sms/africastalking/delivery", data={"id": "ATXid_nobody", "status": "Success"}).status_code == 200
    assert outbox(services)[0].status == OutStatus.PENDING
    assert services.redis.ttl("kassa:dlr:africastalking:ATXid_nobody") > 0  # parked for a while, then gone


@responses.activate
def test_two_workers_on_one_row_send_it_once(make_app: MakeApp) -> None:
    """The sweeper and a retry (or two workers) may run the same send job at once."""
    import threading

    services = make_app(**AT_CONFIG).extensions["kassa"]
    responses.post(AT_URL, json=at_answer())
    oid = queue_one(services)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(deliver(services, oid))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"] and len(responses.calls) == 1


def test_the_sweeper_is_a_scheduled_task() -> None:
    import scheduler

    [task] = [t for t in scheduler.tasks() if t.name == "sms-sweeper"]
    assert task.fn is sweep and task.interval == 60
