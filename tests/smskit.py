"""Helpers for the SMS tests: provider-shaped webhook posts, outbox reads, running jobs inline."""
from __future__ import annotations

import itertools
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from sqlalchemy import select

import worker
from messaging.models import InboxMessage, OutboxMessage
from services import QUEUES

if TYPE_CHECKING:
    from flask.testing import FlaskClient
    from requests import PreparedRequest
    from werkzeug.test import TestResponse

    from services import Services

_ids = itertools.count(1)


def at_sms(client: FlaskClient, phone: str, text: str, msg_id: str | None = None, token: str | None = None,
           run: bool = True) -> TestResponse:
    """POST an inbound SMS as Africa's Talking does, then run its command as the queued job would.

    (The job itself stays queued; running it later finds the message claimed and does nothing.)
    """
    form = {"from": phone, "to": "12345", "text": text, "date": "2026-11-25 09:00:00",
            "id": msg_id or f"ATXid_{next(_ids)}", "linkId": "", "networkCode": "99999"}
    response = client.post("/sms/africastalking", data=form, query_string={"token": token} if token else {})
    if run:
        run_commands(client.application.extensions["kassa"])
    return response


def outbox(services: Services, **where: object) -> list[OutboxMessage]:
    with services.db.transaction() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(s.scalars(query))


def texts_to(services: Services, phone: str) -> list[str]:
    return [m.text for m in outbox(services, to_phone=phone)]


def inbox(services: Services) -> list[InboxMessage]:
    with services.db.transaction() as s:
        return list(s.scalars(select(InboxMessage).order_by(InboxMessage.id)))


def run_commands(services: Services) -> None:
    """Run the command of every stored, not yet handled inbound SMS (the job's body)."""
    from commands.inbox import process
    from messaging.models import InStatus

    for row in inbox(services):
        if row.status == InStatus.RECEIVED:
            process(services, row.id)


class InlineWorker(worker.KassaWorker):
    """A burst worker without the pub/sub listener (stop-job commands), whose
    thread takes a second to join: nothing here sends such commands."""

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


def run_jobs(services: Services) -> None:
    """Run every queued job in this process, highest priority queue first."""
    worker.set_services(services)
    try:
        InlineWorker([services.queue(q) for q in QUEUES], connection=services.redis).work(burst=True)
    finally:
        worker.set_services(None)


def posted_form(request: PreparedRequest) -> dict[str, list[str]]:
    """The form a provider client posted (what ``responses`` recorded), as ``parse_qs`` reads it."""
    assert isinstance(request.body, str), request.body
    return parse_qs(request.body)
