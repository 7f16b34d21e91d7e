"""Seams hardened (issue 11): each test here failed on the code before its fix."""
from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from db import BOUNDED
from groups.phones import PhoneError, normalise_phone
from text.gsm7 import GSM7, UCS2, measure, shape

if TYPE_CHECKING:
    from flask.testing import FlaskClient

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tw-secret"
MEMBER = "+254712000003"


def _twilio_form(sid: str) -> dict[str, str]:
    return {"MessageSid": sid, "AccountSid": "AC1", "From": MEMBER, "To": "+15005550006", "Body": "HELP",
            "NumMedia": "0"}


@pytest.mark.parametrize("query", ["?note=%C3%A9t%C3%A9", "?x=%7Euser", "?a=1&b=x%20y"])
def test_twilio_signature_over_the_raw_url_with_percent_escapes(
        make_app: MakeApp, demo: DemoPeople, query: str) -> None:
    client = make_app(TWILIO_AUTH_TOKEN=TOKEN).test_client()
    form = _twilio_form("SMq" + str(len(query)))
    url = "http://localhost/sms/twilio" + query
    signed = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form)}
    assert client.post("/sms/twilio" + query, data=form, headers=signed).status_code == 200
    forged = {"X-Twilio-Signature": RequestValidator("other").compute_signature(url, form)}
    assert client.post("/sms/twilio" + query, data=form, headers=forged).status_code == 403


def test_a_number_typed_with_letters_is_refused() -> None:
    with pytest.raises(PhoneError, match="letters"):
        normalise_phone("0712ABC678", "KE")
    with pytest.raises(PhoneError):
        normalise_phone("+25471234567x", None)


@pytest.mark.parametrize(("typed", "country", "e164"), [
    ("000254712345678", "KE", "+254712345678"),  # Kenya's own international prefix
    ("000256772123456", "UG", "+256772123456"),
    ("000255754123456", "TZ", "+255754123456"),
    ("0092348031234567", "NG", "+2348031234567"),  # Nigeria's
    ("00254712345678", "KE", "+254712345678"),  # 00 as people also type it
    ("00994501110003", "AZ", "+994501110003"),
    ("0712345678", "KE", "+254712345678"),
])
def test_each_countrys_international_prefix_is_understood(typed: str, country: str, e164: str) -> None:
    assert normalise_phone(typed, country) == e164


def test_a_raw_escape_character_makes_a_text_ucs2() -> None:
    assert shape("Hello").encoding == GSM7
    assert shape("Hello\x1bthere").encoding == UCS2
    assert measure("Hello\x1bthere") == (False, 11)


def test_an_oversized_ussd_request_gets_an_end_screen(client: FlaskClient, demo: DemoPeople) -> None:
    form = {"sessionId": "big", "phoneNumber": MEMBER, "serviceCode": "*384*123#", "text": "1*" * 40_000}
    response = client.post("/ussd/africastalking", data=form)
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("END ")
    assert response.mimetype == "text/plain"


def test_responses_are_never_sniffed(client: FlaskClient, demo: DemoPeople) -> None:
    form = {"sessionId": "s1", "phoneNumber": MEMBER, "serviceCode": "*384*123#", "text": ""}
    for response in (client.post("/ussd/africastalking", data=form), client.get("/health"),
                     client.post("/ussd/africastalking", data={"text": "1" * 70_000})):
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def _procfile(process: str) -> str:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith(f"{process}:"))


def _get(url: str, data: dict[str, str] | None = None) -> tuple[list[str], str]:
    """The ``Server`` headers of the answer to ``url`` (a POST of ``data`` if given) and its body."""
    body = urllib.parse.urlencode(data).encode() if data else None
    try:
        response = urllib.request.urlopen(url, data=body, timeout=10)  # noqa: S310 (a local URL)
    except urllib.error.HTTPError as answer:  # a 404 is an answer too: its headers count
        response = answer
    with response:
        return response.headers.get_all("Server"), response.read().decode()


@pytest.mark.one_backend
def test_the_web_process_names_no_server_software(
        services: Services, db_url: str, redis_url: str, tmp_path: Path) -> None:
    """The Procfile's web command, served for real: every response says "Server: Kassa", never gunicorn."""
    from bench.ussd import _free_port, _wait_listening

    port = _free_port()
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}", "PORT": str(port),
           "WEB_CONCURRENCY": "1", "DATABASE_URL": db_url, "REDIS_URL": redis_url,
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    command = "exec " + _procfile("web").replace("0.0.0.0", "127.0.0.1")  # this machine only
    proc = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        _wait_listening(port, proc)
        host = f"http://127.0.0.1:{port}"
        ussd = {"sessionId": "s1", "phoneNumber": MEMBER, "serviceCode": "*384*123#", "text": ""}
        for path, data in (("/health", None), ("/no-such-page", None), ("/ussd/africastalking", ussd)):
            server, body = _get(host + path, data)
            assert server == ["Kassa"], (path, server)
        assert body.startswith(("CON ", "END ")), body  # the USSD answer really came from Kassa
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        assert proc.stderr is not None
        proc.stderr.close()


def test_every_command_that_serves_kassa_reads_the_gunicorn_config() -> None:
    assert _procfile("web").startswith("gunicorn -c gunicorn.conf.py ")
    source = (ROOT / "cli/up.py").read_text(encoding="utf-8")
    assert '"gunicorn"' in source or "/gunicorn" in source
    assert '"-c", str(GUNICORN_CONFIG)' in source
    # The benchmarks serve with their own config (a ready file per worker), which runs Kassa's first.
    assert '"-c", str(ROOT / "bench" / "gunicorn_ready.py")' in (ROOT / "bench/ussd.py").read_text(encoding="utf-8")
    import runpy

    from gunicorn.http import wsgi

    saved, wsgi.SERVER = wsgi.SERVER, "gunicorn"
    try:
        runpy.run_path(str(ROOT / "bench" / "gunicorn_ready.py"))
        assert wsgi.SERVER == "Kassa"
    finally:
        wsgi.SERVER = saved


def test_every_connection_has_its_timeouts_before_any_ussd_hop(make_app: MakeApp, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("connect and statement timeouts are PostgreSQL's")
    services = make_app().extensions["kassa"]  # an SMS-only web worker: no hop has run
    with services.db.transaction() as session:
        session.info[BOUNDED] = True
        assert session.execute(text("SHOW statement_timeout")).scalar() == "1s"
        raw = session.connection().connection.dbapi_connection
        assert raw.info.get_parameters().get("connect_timeout") == "2"
    with services.db.transaction() as session:  # a job's or a command's session is not bounded
        assert session.execute(text("SHOW statement_timeout")).scalar() == "0"


def test_make_test_never_empties_a_database_it_did_not_create(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the local PostgreSQL server's databases")
    import psycopg

    from tests.run import own_database

    server = "postgresql://" + db_url.split("://", 1)[1].rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS kassa_probe_theirs")
        admin.execute("DROP DATABASE IF EXISTS kassa_probe_ours")
        admin.execute("CREATE DATABASE kassa_probe_theirs")  # somebody's own database
        try:
            assert own_database(server, "kassa_probe_theirs") is None
            ours = own_database(server, "kassa_probe_ours")  # created and marked
            assert ours is not None and ours.endswith("/kassa_probe_ours")
            assert own_database(server, "kassa_probe_ours") == ours  # and known again
        finally:
            admin.execute("DROP DATABASE IF EXISTS kassa_probe_theirs")
            admin.execute("DROP DATABASE IF EXISTS kassa_probe_ours")


@pytest.mark.xdist_group("redis-db-14")  # the probe database: one worker at a time
def test_make_test_never_flushes_a_redis_database_it_did_not_write(redis_url: str) -> None:
    if not redis_url.startswith("redis://"):
        pytest.skip("the local Redis server's databases")
    import redis

    from tests.run import REDIS_MARKER, own_redis

    probe_url = redis_url.rsplit("/", 1)[0] + "/14"
    probe = redis.Redis.from_url(probe_url)
    probe.flushdb()
    try:
        probe.set("somebody:else", "keep me")
        assert own_redis(probe_url) is None and probe.get("somebody:else") == b"keep me"
        probe.flushdb()
        assert own_redis(probe_url) == probe_url  # empty: usable
        probe.set("left:by:a:killed:run", "1")
        probe.set(REDIS_MARKER, "1")
        assert own_redis(probe_url) == probe_url and probe.dbsize() == 0  # marked: ours to empty
    finally:
        probe.flushdb()
        probe.close()


def test_the_workers_redis_databases_are_their_own_and_never_the_probes() -> None:
    from tests.run import WORKER_REDIS, WORKERS

    dbs = [url.rsplit("/", 1)[1] for url in WORKER_REDIS]
    assert len(dbs) == len(set(dbs)) == len(WORKERS) and "14" not in dbs  # 14: the probe above


@pytest.mark.xdist_group("redis-db-14")
def test_the_workers_are_not_started_when_one_redis_database_is_somebody_elses(
        redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One worker's Redis database holds keys the suite did not write: no worker runs on any
    (the serial run follows), and those keys are still there."""
    if not redis_url.startswith("redis://"):
        pytest.skip("the local Redis server's databases")
    import redis

    import tests.run as run

    probe_url = redis_url.rsplit("/", 1)[0] + "/14"
    monkeypatch.setattr(run, "WORKER_REDIS", (redis_url, probe_url))  # this test's own, and the probe
    monkeypatch.setattr(run, "_listening", lambda host, port: port == 6379)  # Redis only: no databases made
    probe, own = redis.Redis.from_url(probe_url), redis.Redis.from_url(redis_url)
    probe.flushdb()
    try:
        probe.set("somebody:else", "keep me")
        assert run._claim_workers() is None
        assert probe.get("somebody:else") == b"keep me" and probe.dbsize() == 1
        assert own.exists(run.REDIS_MARKER)  # the one it had emptied is marked as the suite's again
        probe.flushdb()
        assert run._claim_workers() == ([], [redis_url, probe_url])  # both empty: both claimed
    finally:
        probe.flushdb()
        probe.close()
        own.flushdb()
        own.close()


def test_a_run_on_somebody_elses_server_is_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    """TEST_DATABASE_URL or REDIS_URL set, or -p no:xdist / -n 0: one process, no databases invented."""
    import tests.run as run

    calls: list[str] = []

    def claim() -> None:
        calls.append("claim")

    def serial(argv: list[str]) -> int:
        calls.append("serial")
        return 0

    monkeypatch.setattr(run, "_claim_workers", claim)
    monkeypatch.setattr(run, "_serial", serial)
    monkeypatch.setattr(run, "_parallel_possible", lambda: True)
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    for name in ("TEST_DATABASE_URL", "REDIS_URL"):
        with monkeypatch.context() as env:
            env.setenv(name, "somebody://else")
            assert run.main([]) == 0
    assert run.main(["-p", "no:xdist"]) == 0 and run.main(["-n", "0"]) == 0
    assert calls == ["serial"] * 4
    for other in (["-n", "4"], ["-n4"], ["--numprocesses=auto"], ["-q", "-n", "2"]):  # one database, shared
        assert run.main(other) == pytest.ExitCode.USAGE_ERROR and calls == ["serial"] * 4
    assert run.main([]) == 0 and calls[-2:] == ["claim", "serial"]  # nothing claimed: serial
