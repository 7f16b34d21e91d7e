"""``flask sms PHONE TEXT``: a terminal phone that texts Kassa.

The message goes through the real ``POST /sms/africastalking`` endpoint (in
process, with Africa's Talking's form fields), its command is run as the
worker's job would run it, and every SMS it caused (the reply, receipts to
other members) is printed. The outbox rows stay pending for the worker to send.
"""
from __future__ import annotations

import uuid

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from cli import services as current_services
from commands.inbox import process
from messaging.models import InboxMessage, OutboxMessage


@click.command("sms")
@with_appcontext
@click.argument("phone")
@click.argument("text", nargs=-1, required=True)
def sms(phone: str, text: tuple[str, ...]) -> None:
    """Send TEXT to Kassa as PHONE (e.g. flask sms +254712000001 SAVE 3 200 4 200)."""
    services = current_services()
    msg_id = "cli-" + uuid.uuid4().hex[:12]
    token = services.config.WEBHOOK_TOKEN
    response = current_app.test_client().post(
        "/sms/africastalking", query_string={"token": token} if token else {},
        data={"from": phone, "to": "cli", "text": " ".join(text), "id": msg_id})
    if response.status_code != 200:
        raise click.ClickException(f"HTTP {response.status_code}: {response.get_data(as_text=True)}")
    with services.db.transaction() as session:
        inbox_id = session.scalar(select(InboxMessage.id).where(InboxMessage.provider_message_id == msg_id))
        before = session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1)) or 0
    if inbox_id is None:
        raise click.ClickException(f"the SMS {msg_id} was answered but not stored")
    process(services, inbox_id)
    with services.db.transaction() as session:
        caused = session.scalars(select(OutboxMessage).where(OutboxMessage.id > before).order_by(OutboxMessage.id))
        for msg in caused:
            click.echo(f"--> {msg.to_phone} ({msg.kind}, {msg.encoding}, {msg.segments} SMS)\n{msg.text}\n")


COMMANDS = [sms]
