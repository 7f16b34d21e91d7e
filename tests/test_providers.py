"""The provider registry: the configuration check, the channel each backend builds, and that a
provider added as one folder plus one registry line gets its endpoints, channel and checks."""
from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest

from config import Config, ConfigError
from providers import Answer, Inbound, Outgoing, Provider, Result, Sent
from providers.africastalking.send import AfricasTalkingChannel
from providers.base import Form, SmsWebhooks, one_by_one, send_each
from providers.registry import PROVIDERS, check_config, get_channel
from providers.twilio.send import TwilioChannel
from tests.smskit import inbox

if TYPE_CHECKING:
    from tests.fixture_types import MakeApp

SECRETS = {"WEBHOOK_TOKEN": "t", "PIN_PEPPER": "p", "SECRET_KEY": "s",
           "DATABASE_URL": "postgresql+psycopg://db/kassa", "REDIS_URL": "redis://r:6379/0"}
PROD = {"KASSA_ENV": "production", **SECRETS}
AT = {"SMS_BACKEND": "africastalking", "AT_USERNAME": "u", "AT_API_KEY": "k"}
TWILIO = {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "tok",
          "TWILIO_FROM": "+15005550006", "PUBLIC_URL": "https://kassa.example.org"}

CHECKS = [  # (label, environment, None: it runs; else a text of the refusal)
    ("development on the console", {}, None),
    ("development, a provider without its account", {"SMS_BACKEND": "twilio"}, None),
    ("an unknown backend", {"SMS_BACKEND": "nexmo"}, "SMS_BACKEND must be console, africastalking or twilio, not 'nexmo'"),
    ("production with Africa's Talking and its secrets", {**PROD, **AT}, None),
    ("production with Twilio and its secrets", {**PROD, **TWILIO}, None),
    ("production without Africa's Talking's account", {**PROD, "SMS_BACKEND": "africastalking"},
     "set AT_USERNAME, AT_API_KEY"),
    ("production without anything", {"KASSA_ENV": "production", "SMS_BACKEND": "twilio"},
     "set WEBHOOK_TOKEN, PIN_PEPPER, SECRET_KEY, DATABASE_URL, REDIS_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
     "TWILIO_FROM, PUBLIC_URL"),
    ("production, a Twilio token (its webhooks) without PUBLIC_URL", {**PROD, **AT, "TWILIO_AUTH_TOKEN": "tok"},
     "set PUBLIC_URL"),
    ("production on the console", PROD, "refuses SMS_BACKEND=console: choose africastalking or twilio."),
    ("production, a provider variable given empty", {**PROD, **AT, "AT_API_KEY": ""}, "set AT_API_KEY"),
]


@pytest.mark.parametrize(("env", "refusal"), [c[1:] for c in CHECKS], ids=[c[0] for c in CHECKS])
def test_configuration_check(env: dict[str, str], refusal: str | None) -> None:
    cfg = Config.from_env(env=env)
    if refusal is None:
        check_config(cfg)
        return
    with pytest.raises(ConfigError) as err:
        check_config(cfg)
    assert refusal in str(err.value)


def test_overrides_win_over_the_environment_for_provider_variables() -> None:
    cfg = Config.from_env(env={"AT_USERNAME": "env", "TWILIO_FROM": "+1"},
                          overrides={"AT_USERNAME": "override", "TWILIO_FROM": None})
    assert (cfg.setting("AT_USERNAME"), cfg.setting("TWILIO_FROM"), cfg.setting("AT_API_KEY")) == (
        "override", None, None)


def test_each_backend_builds_its_channel_from_its_own_variables() -> None:
    console = get_channel(Config.from_env(env={}))
    assert (console.name, console.account) == ("console", "console")
    at = cast(AfricasTalkingChannel, get_channel(Config.from_env(env={
        **AT, "AT_SENDER_ID": "KASSA", "SMS_AT_RECIPIENTS": "0", "AT_API_URL": "http://127.0.0.1:9/"})))
    assert (at.name, at.account, at.sender_id, at.max_recipients) == ("africastalking", "u", "KASSA", 1)
    assert at.sms._baseUrl == "http://127.0.0.1:9/version1"
    tw = cast(TwilioChannel, get_channel(Config.from_env(env=TWILIO)))
    assert (tw.name, tw.account, tw.from_, tw.status_callback) == (
        "twilio", "AC1", "+15005550006", "https://kassa.example.org/sms/twilio/status")
    assert cast(TwilioChannel, get_channel(Config.from_env(env={**TWILIO, "PUBLIC_URL": ""}))).status_callback is None


# -- a provider added as one folder and one registry line --------------------------------------

class Pigeon:
    """The sending half of a made-up provider: remembers what it was given."""

    name = account = "pigeon"

    def __init__(self, key: str) -> None:
        self.key = key
        self.sent: list[Outgoing] = []

    def send(self, msg: Outgoing) -> Sent:
        self.sent.append(msg)
        return Sent("pigeon", f"P{msg.outbox_id}")

    def group(self, msgs: list[Outgoing]) -> list[list[Outgoing]]:
        return one_by_one(msgs)

    def send_group(self, msgs: list[Outgoing]) -> list[Result]:
        return send_each(self, msgs)


def _pigeon_form(form: Form) -> Inbound | None:
    return Inbound("pigeon", form["ref"], form["who"], form.get("says", "")) if form.get("ref") else None


PIGEON = Provider(
    name="pigeon",
    channel=lambda config: Pigeon(config.setting("PIGEON_KEY") or ""),
    keys=("PIGEON_KEY",),
    needs=lambda config: ["PIGEON_KEY"] if config.SMS_BACKEND == "pigeon" else [],
    authentic=lambda request, config: request.headers.get("X-Pigeon") == config.setting("PIGEON_KEY"),
    refused="no pigeon",
    sms=SmsWebhooks(inbound_path="/sms/pigeon", parse_inbound=_pigeon_form, stored=lambda: Answer("coo"),
                    malformed="bad request: ref is required"),
)


def test_a_provider_added_to_the_registry_gets_endpoints_channel_and_checks(
        monkeypatch: pytest.MonkeyPatch, make_app: MakeApp) -> None:
    monkeypatch.setitem(PROVIDERS, "pigeon", PIGEON)
    app = make_app(SMS_BACKEND="pigeon", PIGEON_KEY="k3y")
    client, services = app.test_client(), app.extensions["kassa"]
    form = {"ref": "p-1", "who": "+254712000003", "says": "HELP"}
    assert client.post("/sms/pigeon", data=form).get_data(as_text=True) == "no pigeon"
    assert client.post("/sms/pigeon", data={}, headers={"X-Pigeon": "k3y"}).status_code == 400
    answer = client.post("/sms/pigeon", data=form, headers={"X-Pigeon": "k3y"})
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "coo")
    assert [(r.provider, r.provider_message_id, r.text) for r in inbox(services)] == [("pigeon", "p-1", "HELP")]
    channel = services.channel()
    assert isinstance(channel, Pigeon) and channel.key == "k3y"
    with pytest.raises(ConfigError, match="set PIGEON_KEY"):
        check_config(Config.from_env(env={**PROD, "SMS_BACKEND": "pigeon"}))
    check_config(Config.from_env(env={**PROD, "SMS_BACKEND": "pigeon", "PIGEON_KEY": "k"}))


def test_without_the_registry_line_there_is_no_such_provider(make_app: MakeApp) -> None:
    with pytest.raises(ConfigError, match="not 'pigeon'"):
        make_app(SMS_BACKEND="pigeon")


def test_every_provider_variable_is_documented() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert {k for p in PROVIDERS.values() for k in p.keys if f"`{k}`" not in readme} == set()
