"""Outbound SMS channels: one module per provider, each behind the same small seam.

A channel takes one :class:`Outgoing` message and either returns a
:class:`Sent` (the provider accepted it) or raises :class:`SendError` saying
whether trying again could help (``permanent``). Each provider maps its status
and error codes to that decision in a table, not in ifs.

For bulk sending a channel also says how messages share one provider request
(:meth:`Channel.group`: Africa's Talking takes one text to many recipients)
and sends one such request, answering for each message on its own
(:meth:`Channel.send_group`: a :class:`Sent` or a :class:`SendError` each).
A channel is built once per process and used from several threads.
"""
from __future__ import annotations

import os
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


Result = Sent | SendError


class Channel(Protocol):
    name: str
    account: str  # the provider account: the rate limit is per account

    def send(self, msg: Outgoing) -> Sent: ...

    def group(self, msgs: list[Outgoing]) -> list[list[Outgoing]]: ...

    def send_group(self, msgs: list[Outgoing]) -> list[Result]: ...


def one_by_one(msgs: list[Outgoing]) -> list[list[Outgoing]]:
    """``Channel.group`` for providers that take one message per request."""
    return [[m] for m in msgs]


def send_each(channel, msgs: list[Outgoing]) -> list[Result]:
    """``Channel.send_group`` from ``send``: one answer per message, errors included."""
    out: list[Result] = []
    for m in msgs:
        try:
            out.append(channel.send(m))
        except SendError as exc:
            out.append(exc)
    return out


def http_session(pool: int):
    """A requests Session keeping ``pool`` connections alive per host (http and https)."""
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    # With trust_env, requests reads every variable of os.environ (proxies, CA bundle, ~/.netrc)
    # on EVERY request: 12 % of a worker's CPU per SMS (bench/delivery_profile.py). Read the
    # environment once, here; keep trust_env only when it names a proxy (no_proxy is per URL).
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    session.trust_env = any(k.lower().endswith("_proxy") for k in os.environ)
    for prefix in ("http://", "https://"):
        session.mount(prefix, HTTPAdapter(pool_connections=4, pool_maxsize=pool))
    return session


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

        return AfricasTalkingChannel(config.AT_USERNAME, config.AT_API_KEY, config.AT_SENDER_ID,
                                     base_url=config.AT_API_URL, pool=config.SMS_SEND_CONCURRENCY,
                                     max_recipients=config.SMS_AT_RECIPIENTS)
    if config.SMS_BACKEND == "twilio":
        from channels.twilio import TwilioChannel

        return TwilioChannel(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, config.TWILIO_FROM,
                             status_callback_url(config, "/sms/twilio/status"),
                             base_url=config.TWILIO_API_URL, pool=config.SMS_SEND_CONCURRENCY)
    from channels.console import ConsoleChannel

    return ConsoleChannel()
