"""Africa's Talking: SMS both ways, delivery reports, and the USSD gateway.

- ``send``: the channel (the official SDK, one pooled HTTP session, one request per text to many).
- ``inbound``: who may post (``?token=``), inbound SMS, USSD hops and their end.
- ``status``: delivery reports, the status words in a table.

Configuration: ``AT_USERNAME``, ``AT_API_KEY`` (production needs both when it is
``SMS_BACKEND``), ``AT_SENDER_ID``, ``AT_API_URL`` (a stub in benchmarks),
``SMS_AT_RECIPIENTS`` (recipients of one text in one request, default 500);
its callbacks share ``WEBHOOK_TOKEN``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from providers.africastalking import inbound, status
from providers.base import Provider, SmsWebhooks, UssdWebhooks

if TYPE_CHECKING:
    from config import Config
    from providers.base import Channel

NAME = inbound.NAME
KEYS = ("AT_USERNAME", "AT_API_KEY", "AT_SENDER_ID", "AT_API_URL", "SMS_AT_RECIPIENTS")


def needs(config: Config) -> list[str]:
    """What production must have given: the account, when this is the sending backend."""
    return ["AT_USERNAME", "AT_API_KEY"] if config.SMS_BACKEND == NAME else []


def channel(config: Config) -> Channel:
    from providers.africastalking.send import AfricasTalkingChannel

    return AfricasTalkingChannel(config.setting("AT_USERNAME") or "", config.setting("AT_API_KEY") or "",
                                 config.setting("AT_SENDER_ID"), base_url=config.setting("AT_API_URL"),
                                 pool=config.SMS_SEND_CONCURRENCY,
                                 max_recipients=max(1, int(config.setting("SMS_AT_RECIPIENTS") or 500)))


PROVIDER = Provider(
    name=NAME,
    channel=channel,
    keys=KEYS,
    needs=needs,
    authentic=inbound.token_ok,
    refused="forbidden",
    sms=SmsWebhooks(inbound_path="/sms/africastalking", parse_inbound=inbound.sms, stored=inbound.stored,
                    malformed="bad request: id and from are required",
                    report_path="/sms/africastalking/delivery", parse_report=status.report),
    ussd=UssdWebhooks(path="/ussd/africastalking", parse=inbound.ussd, answer=inbound.ussd_answer,
                      events_path="/ussd/africastalking/events", parse_ended=inbound.ussd_ended),
)
