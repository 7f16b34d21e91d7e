"""The first slice: configuration, health, the home menu, the CLI."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from config import Config, ConfigError
from providers.registry import check_config

if TYPE_CHECKING:
    from pathlib import Path

    from flask.testing import FlaskClient, FlaskCliRunner
    from werkzeug.test import TestResponse

    from services import Services
    from tests.fixture_types import DemoPeople, MakeApp


def ussd(client: FlaskClient, phone: str, text: str = "", session_id: str | None = None,
         **query: str) -> TestResponse:
    return client.post("/ussd/africastalking", query_string=query,
                       data={"phoneNumber": phone, "sessionId": session_id or f"s-{phone.strip()}",
                             "serviceCode": "*384*123#", "text": text, "networkCode": "99999"})


def test_health_and_ready(client: FlaskClient) -> None:
    assert client.get("/health").status_code == 200
    r = client.get("/ready")
    assert r.status_code == 200, r.json
    assert r.json is not None and r.json["database"] == "ok" and r.json["redis"] == "ok"


def test_ready_is_503_when_redis_is_down(make_app: MakeApp) -> None:
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    r = app.test_client().get("/ready")
    assert r.status_code == 503 and r.json is not None and r.json["redis"].startswith("error")


def test_home_menu_in_members_language(client: FlaskClient, demo: DemoPeople) -> None:
    r = ussd(client, "+994501110003")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and r.mimetype == "text/plain"
    assert body.startswith("CON ") and "Əmanətim" in body  # Azerbaijani, in her group's (full) letters
    en = ussd(client, "+254712000003").get_data(as_text=True)
    assert en.startswith("CON ") and "My savings" in en


def test_home_menu_depends_on_role(client: FlaskClient, demo: DemoPeople) -> None:
    chair = ussd(client, "+254712000002").get_data(as_text=True)
    treasurer = ussd(client, "+254712000001").get_data(as_text=True)
    assert "Loan requests" in chair and "Loan requests" not in treasurer
    assert "Today's meeting" in treasurer


def test_unknown_number_gets_polite_end(client: FlaskClient, demo: DemoPeople) -> None:
    body = ussd(client, "+254799999999").get_data(as_text=True)
    assert body.startswith("END ") and "not registered" in body


@pytest.mark.parametrize("form", [{}, {"sessionId": "x"}, {"phoneNumber": "garbage", "sessionId": "x"}])
def test_malformed_requests_get_end_not_500(client: FlaskClient, form: dict[str, str]) -> None:
    r = client.post("/ussd/africastalking", data=form)
    assert r.status_code == 200 and r.get_data(as_text=True).startswith("END ")


def test_plus_decoded_as_space_still_finds_member(client: FlaskClient, demo: DemoPeople) -> None:
    body = ussd(client, " 254712000003").get_data(as_text=True)
    assert body.startswith("CON ")


def test_webhook_token_enforced(make_app: MakeApp, demo: DemoPeople) -> None:
    client = make_app(WEBHOOK_TOKEN="s3cret").test_client()
    assert ussd(client, "+254712000003").status_code == 403
    assert ussd(client, "+254712000003", token="wrong").status_code == 403
    assert ussd(client, "+254712000003", token="s3cret").get_data(as_text=True).startswith("CON ")


def test_production_refuses_to_start_without_secrets() -> None:
    cfg = Config.from_env(env={"KASSA_ENV": "production", "SMS_BACKEND": "twilio"})
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    for name in ("WEBHOOK_TOKEN", "TWILIO_AUTH_TOKEN", "DATABASE_URL", "REDIS_URL", "PIN_PEPPER", "SECRET_KEY"):
        assert name in str(err.value)


def test_production_starts_with_its_secrets() -> None:
    env = {"KASSA_ENV": "production", "SMS_BACKEND": "africastalking", "AT_USERNAME": "u",
           "AT_API_KEY": "k", "WEBHOOK_TOKEN": "t", "PIN_PEPPER": "p", "SECRET_KEY": "s",
           "DATABASE_URL": "postgresql+psycopg://db/kassa", "REDIS_URL": "redis://r:6379/0"}
    check_config(Config.from_env(env=env))


def test_demo_is_idempotent_and_prints_phones(runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert first.output == second.output
    for phone in ("+994501110001", "+84912000002", "+254712000003"):
        assert phone in first.output
    assert "treasurer" in first.output and "chair" in first.output
    listing = runner.invoke(args=["groups", "list"]).output
    assert "BERDE1" in listing and "BANPHO" in listing and "UPENDO" in listing


def test_import_with_one_bad_phone_imports_nothing_and_names_the_line(
        runner: FlaskCliRunner, tmp_path: Path, services: Services) -> None:
    runner.invoke(args=["groups", "create", "--code", "NEW1", "--name", "New", "--kind", "vsla",
                        "--currency", "KES", "--country", "KE", "--share-value", "100"])
    csv = tmp_path / "m.csv"
    csv.write_text("phone,name,role\n0712345001,Akinyi,member\n0712,Wambui,member\n0712345003,Atieno,chair\n")
    r = runner.invoke(args=["members", "import", "NEW1", str(csv)])
    assert r.exit_code != 0
    assert "line 3" in r.output and "0712" in r.output and "imported nothing" in r.output
    assert " 0 members" in runner.invoke(args=["groups", "list"]).output
    r = runner.invoke(args=["members", "import", "NEW1", str(csv), "--skip-bad"])
    assert r.exit_code == 0 and "imported 2 members" in r.output


def test_members_add_refuses_a_bad_phone_saying_why(runner: FlaskCliRunner, demo: DemoPeople) -> None:
    r = runner.invoke(args=["members", "add", "UPENDO", "12345", "Jane"])
    assert r.exit_code != 0 and "12345" in r.output and "wrong length" in r.output


def test_terminal_phone_dials_through_the_endpoint(runner: FlaskCliRunner, demo: DemoPeople) -> None:
    r = runner.invoke(args=["ussd", "+254712000003", "--input", "q"])
    assert r.exit_code == 0 and "My savings" in r.output


def test_migrations_match_models(db_url: str) -> None:
    assert migrations.pending_model_changes(db_url) == []


import migrations  # noqa: E402
