"""Webhook tests as tables (after RapidPro courier's ``IncomingTestCase``): one :class:`Case`
per row, the request in, the HTTP answer and its effect out; :func:`run` plays a row.

A row names the path, the form and (``prep``) how the request proves itself; it
expects a status, a body, and what the request left behind: the inbox (every
stored SMS), the outbox row a delivery report is about, a log line. ``times``
posts the same request again (providers redeliver); ``earlier`` posts other
forms first (reports race).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from messaging.models import InboxMessage, OutboxMessage, OutStatus, Priority
from messaging.outbox import queue_sms
from text.plain import Letters

MEMBER = "+254712000003"  # a demo member (Upendo, Kenya)
SENT_ID = "MSG-9"  # the provider id of the message a report is about
TWILIO_TOKEN = "tw-secret"
PUBLIC_URL = "https://kassa.example.org"

#: ``prep(url, form) -> headers``: how a row's request proves itself (``url``: the URL it is posted to).
Prep = Callable[[str, dict[str, str]], dict[str, str]]


def twilio_signed(url: str, form: dict[str, str]) -> dict[str, str]:
    """Signed with the configured token over ``url``, as Twilio does."""
    return {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}


def twilio_forged(url: str, form: dict[str, str]) -> dict[str, str]:
    """Signed over the same URL and form with another account's token."""
    return {"X-Twilio-Signature": RequestValidator("someone-else").compute_signature(url, form)}


def signed_over(base: str) -> Prep:
    """Signed over ``base`` + the path instead of the URL posted to (a proxy in between)."""
    def prep(url: str, form: dict[str, str]) -> dict[str, str]:
        parts = urlsplit(url)
        return twilio_signed(base + parts.path + (f"?{parts.query}" if parts.query else ""), form)
    return prep


def tampered(key: str, value: str) -> Prep:
    """Signed over the form, then ``key`` changed to ``value`` on the way."""
    def prep(url: str, form: dict[str, str]) -> dict[str, str]:
        headers = twilio_signed(url, form)
        form[key] = value
        return headers
    return prep


@dataclass(frozen=True)
class Case:
    label: str
    path: str
    form: dict[str, str]
    status: int
    body: str = ""  # the answer contains this
    begins: str = ""  # and begins with this
    mimetype: str = "text/plain"
    query: str = ""  # e.g. "?token=..."
    prep: Prep | None = None
    config: dict[str, Any] = field(default_factory=dict)
    times: int = 1  # the same request, posted this many times
    earlier: tuple[dict[str, str], ...] = ()  # forms posted to the same path first
    inbox: list[tuple[str, str, str, str]] = field(default_factory=list)  # (provider, id, from, text)
    sent: str | None = None  # a provider whose message SENT_ID is in the outbox, sent, before the request
    outbox: tuple[OutStatus, str | None] | None = None  # that message's status and last error after
    logged: str | None = None  # a log line contains this


def ids(cases: list[Case]) -> list[str]:
    return [c.label for c in cases]


def run(make_app: Callable[..., Any], case: Case, caplog: Any = None) -> None:
    """Play ``case`` on a fresh app and check each thing it expects."""
    app = make_app(**case.config)
    services, client = app.extensions["kassa"], app.test_client()
    if case.sent:
        _sent(services, case.sent)
    if caplog is not None:
        caplog.set_level(logging.INFO)
    for form in case.earlier:
        client.post(case.path + case.query, data=form, headers=_headers(case, form))
    for _ in range(case.times):
        form = dict(case.form)
        headers = _headers(case, form)
        response = client.post(case.path + case.query, data=form, headers=headers)
        assert response.status_code == case.status, (case.label, response.get_data(as_text=True))
    text = response.get_data(as_text=True)
    assert case.body in text and text.startswith(case.begins), (case.label, text)
    assert response.mimetype == case.mimetype, case.label
    assert _inbox(services) == case.inbox, case.label
    if case.outbox is not None:
        assert _outbox(services) == case.outbox, case.label
    if case.logged is not None:
        assert case.logged in caplog.text, case.label


def _headers(case: Case, form: dict[str, str]) -> dict[str, str]:
    return case.prep("http://localhost" + case.path + case.query, form) if case.prep else {}


def _sent(services: Any, provider: str) -> None:
    """A message the provider took (id SENT_ID), as the sender leaves it."""
    with services.db.transaction() as s:
        row = queue_sms(s, to=MEMBER, text="Asante sana", language="sw", kind="reply", priority=Priority.REPLY,
                         letters=Letters.FULL)
        s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                  .values(provider=provider, provider_id=SENT_ID, status=OutStatus.SENT))


def _inbox(services: Any) -> list[tuple[str, str, str, str]]:
    with services.db.transaction() as s:
        return [(r.provider, r.provider_message_id, r.from_phone, r.text)
                for r in s.scalars(select(InboxMessage).order_by(InboxMessage.id))]


def _outbox(services: Any) -> tuple[OutStatus, str | None]:
    with services.db.transaction() as s:
        [row] = s.scalars(select(OutboxMessage))
        return row.status, row.last_error
