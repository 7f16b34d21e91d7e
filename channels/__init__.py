"""Outbound SMS channels: one module per provider, each behind the same small seam.

A channel takes one :class:`Outgoing` message and either returns a
:class:`Sent` (the provider accepted it) or raises :class:`SendError` saying
whether trying again could help (``permanent``). Each provider maps its status
and error codes to that decision in a table, not in ifs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    outbox_id: int
    to: str  # E.164
    text: str
    bulk: bool = False  # broadcasts: the provider may queue them
    language: str = ""  # the outbox row's language (the console shows it)


@dataclass(frozen=True)
class Sent:
    provider: str
    provider_id: str
    delivered: bool = False  # the console "delivers" at once


class SendError(Exception):
    """The provider did not take the message. ``permanent``: never retry it."""

    def __init__(self, provider: str, code: str, detail: str, *, permanent: bool) -> None:
        super().__init__(f"{provider} {code}: {detail}")
        self.provider = provider
        self.code = code
        self.detail = detail
        self.permanent = permanent


class Channel(Protocol):
    name: str

    def send(self, msg: Outgoing) -> Sent: ...


def status_callback_url(config, path: str) -> str | None:
    """The public URL a provider should post delivery reports to, when known."""
    if not config.PUBLIC_URL:
        return None
    url = config.PUBLIC_URL.rstrip("/") + path
    if config.WEBHOOK_TOKEN and "africastalking" in path:
        url += "?token=" + config.WEBHOOK_TOKEN
    return url


def get_channel(config) -> Channel:
    """The channel ``SMS_BACKEND`` names, built from the configuration."""
    if config.SMS_BACKEND == "africastalking":
        from channels.africastalking import AfricasTalkingChannel

        return AfricasTalkingChannel(config.AT_USERNAME, config.AT_API_KEY, config.AT_SENDER_ID)
    if config.SMS_BACKEND == "twilio":
        from channels.twilio import TwilioChannel

        return TwilioChannel(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, config.TWILIO_FROM,
                             status_callback_url(config, "/sms/twilio/status"))
    from channels.console import ConsoleChannel

    return ConsoleChannel()
