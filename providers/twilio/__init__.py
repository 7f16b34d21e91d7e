"""Twilio: SMS both ways and status callbacks (no USSD).

- ``send``: the channel (the official SDK, one message per request, pooled connections).
- ``inbound``: the ``X-Twilio-Signature`` check, inbound SMS, the (empty) TwiML answer.
- ``status``: status callbacks, the status words in a table.

Configuration: ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, ``TWILIO_FROM``
(production needs them and ``PUBLIC_URL`` when it is ``SMS_BACKEND``; a token
without ``PUBLIC_URL`` needs it too: the signature covers the public URL),
``TWILIO_API_URL`` (a stub in benchmarks).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from providers.base import Provider, SmsWebhooks
from providers.twilio import inbound, status

if TYPE_CHECKING:
    from config import Config
    from providers.base import Channel

NAME = inbound.NAME
KEYS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_API_URL")
REPORT_PATH = "/sms/twilio/status"


def needs(config: Config) -> list[str]:
    """What production must have given for this configuration."""
    need = []
    if config.SMS_BACKEND == NAME:
        need = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "PUBLIC_URL"]
    if config.setting("TWILIO_AUTH_TOKEN") and not config.PUBLIC_URL:
        need.append("PUBLIC_URL")
    return need


def status_callback(config: Config) -> str | None:
    """The public URL Twilio should post each message's status to, when known."""
    return config.PUBLIC_URL.rstrip("/") + REPORT_PATH if config.PUBLIC_URL else None


def channel(config: Config) -> Channel:
    from providers.twilio.send import TwilioChannel

    return TwilioChannel(config.setting("TWILIO_ACCOUNT_SID") or "", config.setting("TWILIO_AUTH_TOKEN") or "",
                         config.setting("TWILIO_FROM") or "", status_callback(config),
                         base_url=config.setting("TWILIO_API_URL"), pool=config.SMS_SEND_CONCURRENCY)


PROVIDER = Provider(
    name=NAME,
    channel=channel,
    keys=KEYS,
    needs=needs,
    authentic=inbound.signature_ok,
    refused="forbidden: bad X-Twilio-Signature",
    sms=SmsWebhooks(inbound_path="/sms/twilio", parse_inbound=inbound.sms, stored=inbound.stored,
                    malformed="bad request: MessageSid and From are required",
                    report_path=REPORT_PATH, parse_report=status.report),
)
