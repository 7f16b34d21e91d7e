"""Bulk delivery: batches, one request for one text to many, failures row by row, a killed
worker, a Redis FLUSHALL, priorities, pacing and job ids that cannot meet another database's.

The providers' HTTP is faked only: with ``responses``, or with a local stub server
(``bench.provider_stub``) speaking Africa's Talking's and Twilio's HTTP when a worker
runs in another process.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import responses
from rq.registry import ScheduledJobRegistry

import jobs
import worker
from bench.provider_stub import StubServer
from jobs.sms import send_many as send_many_job
from messaging.bulk import insert_outbox_rows, send_after_commit
from messaging.models import OutStatus, Priority
from messaging.ratelimit import RateLimiter
from messaging.sweeper import sweep
from tests.ports import free_port, worker_range
from tests.smskit import outbox, posted_form, run_jobs
from text.plain import Letters

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

    from requests import PreparedRequest

    from services import Services
    from tests.fixture_types import MakeApp

ROOT = Path(__file__).resolve().parent.parent
AT_URL = "https://api.africastalking.com/version1/messaging"
AT_CONFIG = dict(SMS_BACKEND="africastalking", AT_USERNAME="kassa", AT_API_KEY="k3y", AT_SENDER_ID="KASSA",
                 SMS_RATE_PER_SECOND=0)


def phone(i: int) -> str:
    return f"+2547120{i:05d}"


def write(services: Services, n: int, *, kind: str = "reminder", priority: Priority = Priority.NOTICE,
          text: str | None = None, start: int = 0, enqueue: bool = True) -> list[int]:
    """``n`` outbox rows written in bulk as the planner and the fan-out do (one chunk job after commit)."""
    rows = [dict(to_phone=phone(start + i), member_id=None, group_id=None,
                 text=text or f"Meeting tomorrow 10:00, member {start + i}", language="en", encoding="gsm7",
                 segments=1, priority=int(priority), kind=kind, dedupe_key=f"{kind}-{start + i}",
                 status="pending", attempts=0) for i in range(n)]
    with services.db.transaction() as s:
        ids = insert_outbox_rows(s, rows)
        if enqueue:
            send_after_commit(s, ids, priority)
    return ids


def send_many(services: Services, ids: list[int]) -> dict[str, Any]:
    """The ``send_many`` job run in this process on the test's services."""
    with jobs.running(services):
        return send_many_job(ids)


def at_answer_for(request: PreparedRequest, fail: Collection[str] = frozenset(),
                  codes: dict[str, int] | None = None) -> tuple[int, dict[str, str], str]:
    form = posted_form(request)
    numbers = form["to"][0].split(",")
    recipients = []
    for n in numbers:
        code = (codes or {}).get(n, 500 if n in fail else 101)
        recipients.append({"statusCode": code, "number": n, "status": "x", "cost": "KES 0.8",
                           "messageId": f"AT-{n}" if code == 101 else "None"})
    return 201, {}, json.dumps({"SMSMessageData": {"Message": "ok", "Recipients": recipients}})


def _free_port() -> int:
    port = free_port(5510, 5560)  # this xdist worker's share of the range
    if port is None:
        raise RuntimeError(f"no free port in {worker_range(5510, 5560)}")
    return port


@pytest.fixture(autouse=True)
def _no_services_left() -> Iterator[None]:
    yield
    worker.set_services(None)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer(_free_port()).start()
    yield server
    server.stop()


# -- one statement, one request for one text to many, row-by-row outcomes -------------------------

@responses.activate
def test_one_text_to_many_is_one_request_and_each_recipient_is_read_on_its_own(make_app: MakeApp) -> None:
    services = make_app(**AT_CONFIG).extensions["kassa"]
    codes = {phone(2): 406, phone(4): 500}  # opted out at the telco; a transient error
    responses.add_callback(responses.POST, AT_URL, callback=lambda r: at_answer_for(r, codes=codes))
    ids = write(services, 6, kind="broadcast", priority=Priority.BULK, text="Training moved to Friday")
    run_jobs(services)
    [call] = responses.calls
    form = posted_form(call.request)
    assert form["to"] == [",".join(phone(i) for i in range(6))] and form["enqueue"] == ["1"]
    rows = {m.id: m for m in outbox(services)}
    assert [rows[i].status for i in ids] == [OutStatus.SENT, OutStatus.SENT, OutStatus.REJECTED,
                                             OutStatus.SENT, OutStatus.PENDING, OutStatus.SENT]
    assert rows[ids[0]].provider_id == f"AT-{phone(0)}" and rows[ids[4]].retry_at is not None


@responses.activate
def test_the_same_number_twice_goes_in_two_requests_and_a_malformed_one_alone_is_refused(
        make_app: MakeApp) -> None:
    services = make_app(**AT_CONFIG).extensions["kassa"]
    responses.add_callback(responses.POST, AT_URL, callback=lambda r: at_answer_for(r))
    ids = write(services, 3, kind="broadcast", priority=Priority.BULK, text="Hello")
    from sqlalchemy import update

    from messaging.models import OutboxMessage

    with services.db.transaction() as s:  # the third goes to the first's number; a fourth is malformed
        s.execute(update(OutboxMessage).where(OutboxMessage.id == ids[2]).values(to_phone=phone(0)))
    [bad] = write(services, 1, kind="broadcast", priority=Priority.BULK, text="Hello", start=9, enqueue=False)
    with services.db.transaction() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == bad).values(to_phone="0712000009"))
    send_many(services, [*ids, bad])
    assert sorted(posted_form(c.request)["to"][0] for c in responses.calls) == sorted([
        f"{phone(0)},{phone(1)}", phone(0)])
    assert [m.status for m in outbox(services)] == [OutStatus.SENT] * 3 + [OutStatus.REJECTED]


@responses.activate
def test_a_transient_failure_on_row_k_sends_the_others_at_once_and_row_k_later_exactly_once(
        make_app: MakeApp) -> None:
    """The old chunk job stopped at row k: the rows after it stayed pending, untried."""
    services = make_app(**AT_CONFIG).extensions["kassa"]
    k = 3
    failing = {phone(k)}
    sent: list[str] = []

    def answer(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        numbers = posted_form(request)["to"][0].split(",")
        fail = set(numbers) & failing
        failing.difference_update(fail)  # fails once
        sent.extend(n for n in numbers if n not in fail)
        return at_answer_for(request, fail=fail)

    responses.add_callback(responses.POST, AT_URL, callback=answer)
    ids = write(services, 8)
    run_jobs(services)
    rows = {m.id: m for m in outbox(services)}
    assert [rows[i].status for i in ids] == [OutStatus.SENT] * k + [OutStatus.PENDING] + [OutStatus.SENT] * 4
    retry_at = rows[ids[k]].retry_at
    assert retry_at is not None
    assert rows[ids[k]].attempts == 1 and retry_at.replace(tzinfo=None) > dt.datetime.now(dt.UTC).replace(tzinfo=None)
    registry = ScheduledJobRegistry(queue=services.queue("default"))  # type: ignore[no-untyped-call]  # rq: not annotated
    [job_id] = registry.get_job_ids()
    job = services.queue("default").fetch_job(job_id)
    assert job.args == ([ids[k]],)  # only row k waits for its backoff
    services.queue("default").enqueue_job(job)  # its time has come
    run_jobs(services)
    run_jobs(services)  # a second run sends nothing more
    assert sorted(sent) == sorted(phone(i) for i in range(8))
    assert {m.status for m in outbox(services)} == {OutStatus.SENT} and outbox(services)[k].attempts == 2


@responses.activate
def test_an_http_error_on_one_request_retries_only_that_requests_rows(make_app: MakeApp) -> None:
    services = make_app(**dict(AT_CONFIG, SMS_SEND_CONCURRENCY=4)).extensions["kassa"]
    calls = []

    def answer(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        numbers = posted_form(request)["to"][0].split(",")
        calls.append(numbers)
        if phone(5) in numbers and sum(phone(5) in c for c in calls) == 1:
            return 503, {}, "gateway down"
        return at_answer_for(request)

    responses.add_callback(responses.POST, AT_URL, callback=answer)
    ids = write(services, 10)
    send_many(services, ids)
    status = {m.id: m.status for m in outbox(services)}
    assert [status[i] for i in ids].count(OutStatus.PENDING) == 1 and status[ids[5]] == OutStatus.PENDING
    send_many(services, [ids[5]])
    assert {m.status for m in outbox(services)} == {OutStatus.SENT}


def test_one_keep_alive_session_per_process_several_requests_in_flight(
        make_app: MakeApp, stub: StubServer) -> None:
    cfg = dict(AT_CONFIG, AT_API_URL=stub.url, SMS_SEND_CONCURRENCY=4)
    services = make_app(**cfg).extensions["kassa"]
    assert services.channel() is services.channel()
    stub.delay = 0.02
    ids = write(services, 40, enqueue=False)
    send_many(services, ids)
    assert stub.requests == 40 and stub.messages == 40
    assert 1 < len(stub.peers) <= 4  # several in flight, each connection kept alive for the next
    assert {m.status for m in outbox(services)} == {OutStatus.SENT}


def test_claim_takes_each_row_once_when_two_workers_race(make_app: MakeApp, stub: StubServer) -> None:
    cfg = dict(AT_CONFIG, AT_API_URL=stub.url, SMS_BATCH=7)
    services = make_app(**cfg).extensions["kassa"]
    ids = write(services, 60, enqueue=False)
    threads = [threading.Thread(target=send_many, args=(services, ids)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stub.messages == 60 and set(stub.delivered.values()) == {1}
    assert {m.status for m in outbox(services)} == {OutStatus.SENT}


# -- priorities and pacing ----------------------------------------------------------------------

def test_a_broadcast_job_sends_a_waiting_reply_first(
        make_app: MakeApp, capsys: pytest.CaptureFixture[str]) -> None:
    services = make_app().extensions["kassa"]  # console: prints in the order sent
    ids = write(services, 3, kind="broadcast", priority=Priority.BULK, text="News", enqueue=False)
    [reply] = write(services, 1, kind="receipt", priority=Priority.REPLY, text="Receipt: 200 KES", start=5,
                    enqueue=False)
    send_many(services, ids)  # the reply's own job has not run yet (its worker is busy with this broadcast)
    # the console prints each SMS as a block ("┌ SMS #n to ...", "│ text", "└"): the texts in order
    printed = [line.removeprefix("│ ") for line in capsys.readouterr().out.splitlines() if line.startswith("│ ")]
    assert printed == ["Receipt: 200 KES", "News", "News", "News"]
    assert outbox(services, id=reply)[0].status == OutStatus.DELIVERED


@pytest.mark.one_backend
def test_bulk_never_books_the_rate_far_ahead_of_a_reply(services: Services) -> None:
    waits: list[float] = []
    bulk = RateLimiter(services.redis, "at:acct", rate=10.0, sleep=waits.append)
    for _ in range(30):  # a broadcast books slices of 2 (0.25 s at 10/s)
        bulk.wait(2, max_ahead=0.25)
    reply = RateLimiter(services.redis, "at:acct", rate=10.0, sleep=waits.append)
    assert 0 <= reply.reserve(1) <= 0.5  # behind at most one slice of the broadcast
    assert bulk.reserve(2, max_ahead=0.25) < 0  # and the broadcast waits for room again


# -- job ids across databases -------------------------------------------------------------------

def test_job_ids_of_two_databases_on_one_redis_never_meet(
        make_app: MakeApp, tmp_path: Path, redis_url: str) -> None:
    import migrations
    from messaging.outbox import queue_sms

    other_url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    migrations.recreate(other_url)
    first = make_app().extensions["kassa"]
    second = make_app(DATABASE_URL=other_url).extensions["kassa"]
    for services in (first, second):
        with services.db.transaction() as s:
            assert queue_sms(s, letters=Letters.FULL, to="+254712000003", text="Asante", language="sw", kind="reply").id == 1
    assert first.job_id("send-1") != second.job_id("send-1")
    queue = first.queue("default")
    assert queue.job_ids == [first.job_id("send-1"), second.job_id("send-1")]  # none overwrote the other
    for services in (first, second):  # each database's worker runs its own job
        with jobs.running(services):
            queue.fetch_job(services.job_id("send-1")).perform()
        assert [m.status for m in outbox(services)] == [OutStatus.DELIVERED]


def test_a_database_emptied_gets_a_new_identity(make_app: MakeApp, db_url: str) -> None:
    from db import make_engine
    from services import Services
    from tests.conftest import truncate_all

    services = make_app().extensions["kassa"]
    before = services.identity
    engine = make_engine(db_url)
    truncate_all(engine)
    engine.dispose()
    fresh = Services.build(services.config)
    try:
        assert fresh.identity != before and len(fresh.identity) == 8
    finally:
        fresh.close()


# -- Redis loses everything mid-send ------------------------------------------------------------

def test_flushall_mid_send_everything_sent_once_by_a_few_drain_jobs(
        make_app: MakeApp, stub: StubServer) -> None:
    """The old sweeper forked one RQ job per row; now one drain job per priority (two) per sweep."""
    cfg = dict(AT_CONFIG, AT_API_URL=stub.url, SMS_BATCH=50, SMS_SEND_CONCURRENCY=1)
    services = make_app(**cfg).extensions["kassa"]
    ids = write(services, 200, enqueue=False)
    broadcast = write(services, 100, kind="broadcast", priority=Priority.BULK, text="Meeting moved", start=1000,
                      enqueue=False)
    with services.db.transaction() as s:  # the chunk jobs, as the planner and the fan-out enqueue them
        send_after_commit(s, ids[50:], Priority.NOTICE)
        send_after_commit(s, broadcast, Priority.BULK)
    stub.hold_after = 20
    sender = threading.Thread(target=send_many, args=(services, ids[:50]))  # a worker busy with the first chunk
    sender.start()
    assert stub.wait_held(30), "the send never reached the stub"
    services.redis.flushdb()  # FLUSHALL, on our database only (a shared server): all jobs gone
    stub.release()
    sender.join(30)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    assert sweep(services, later) == 250  # the lost rows: 150 reminders and 100 broadcast
    queued = {q: services.queue(q).count for q in ("high", "default", "bulk")}
    assert queued == {"high": 0, "default": 2, "bulk": 2}  # two drains per priority, not a job per row
    assert sweep(services, later) == 0  # they are queued: nothing added
    run_jobs(services)
    assert stub.messages == 300 and set(stub.delivered.values()) == {1} and len(stub.delivered) == 300
    assert {m.status for m in outbox(services)} == {OutStatus.SENT}


# -- a worker killed mid-batch --------------------------------------------------------------------

def test_kill_9_of_a_worker_mid_batch_every_message_sent_exactly_once_after_restart(
        make_app: MakeApp, stub: StubServer, db_url: str, redis_url: str) -> None:
    """A real worker process (KassaWorker: RQ's SimpleWorker, the job runs in the worker process
    itself, no work horse) is killed with SIGKILL while its batch is half sent.

    The stub holds the 21st request unanswered, so the kill lands with 20 messages answered
    and journalled but not one recorded in the database (the batch records at its end).
    After the sweeper (ten minutes on), the 20 are recorded from the journal and the rest sent.
    """
    cfg = dict(AT_CONFIG, AT_API_URL=stub.url, SMS_SEND_CONCURRENCY=1)
    services = make_app(**cfg).extensions["kassa"]
    write(services, 60)
    stub.hold_after = 20
    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=redis_url,
               **{k: str(v) for k, v in cfg.items()})
    proc = subprocess.Popen([sys.executable, "-c", "import worker; worker.work()"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    assert proc.stderr is not None
    try:
        deadline = time.monotonic() + 60
        while not stub.wait_held(0.05):  # woken as the stub holds the request; the worker must stay alive
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the worker never reached the stub"
    finally:
        others = _children(proc.pid)  # RQ's scheduler process (with_scheduler), not a work horse
        os.kill(proc.pid, signal.SIGKILL)  # the worker, in the middle of its batch
        for pid in others:
            os.kill(pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert stub.messages == 20
    assert {m.status for m in outbox(services)} == {OutStatus.SENDING}  # nothing recorded yet
    deadline = time.monotonic() + 10
    while stub.held_alive():  # the stub sees the dead worker's connection close: it never answers it
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stub.release()
    assert sweep(services, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)) == 40  # 20 were journalled
    run_jobs(services)  # the restarted worker
    assert stub.messages == 60 and set(stub.delivered.values()) == {1} and len(stub.delivered) == 60
    rows = outbox(services)
    assert {m.status for m in rows} == {OutStatus.SENT} and len({m.provider_id for m in rows}) == 60


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def test_http_session_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests re-reads os.environ on every request when trust_env: the session reads it at build."""
    from providers import http_session

    for key in list(os.environ):
        if key.lower().endswith("_proxy") or key in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    session = http_session(4)
    assert session.trust_env is False and session.verify == "/etc/ssl/certs/ca-certificates.crt"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert http_session(4).trust_env is True  # a proxy (and its no_proxy) is per URL: requests decides
