"""``flask ussd PHONE``: a terminal feature phone that dials Kassa.

Each hop goes through the real ``POST /ussd/africastalking`` endpoint, in
process by default or over HTTP with ``--url``, with Africa's Talking's form
fields and the cumulative ``text`` the gateway would send.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import with_appcontext

from cli import services


@click.command("ussd")
@with_appcontext
@click.argument("phone")
@click.option("--url", default=None, help="Base URL of a running Kassa (default: in process).")
@click.option("--code", "service_code", default=None, help="Service code dialled.")
@click.option("--input", "inputs", multiple=True, help="Answers to send without prompting.")
def ussd(phone: str, url: str | None, service_code: str | None, inputs: tuple[str, ...]) -> None:
    """Dial Kassa as PHONE and answer its screens (type 'q' to hang up)."""
    cfg = services().config
    post = _poster(url, cfg.WEBHOOK_TOKEN)
    session_id = "cli-" + uuid.uuid4().hex[:12]
    code = service_code or cfg.USSD_SERVICE_CODE
    typed: list[str] = []
    scripted = list(inputs)
    while True:
        body = post({"sessionId": session_id, "phoneNumber": phone, "serviceCode": code,
                     "networkCode": "99999", "text": "*".join(typed)})
        click.echo("-" * 24)
        click.echo(body[4:] if body[:4] in ("CON ", "END ") else body)
        click.echo("-" * 24)
        if not body.startswith("CON "):
            return
        answer = scripted.pop(0) if scripted else (None if inputs else click.prompt(">", default="", show_default=False))
        if answer is None or answer.strip().lower() == "q":
            return
        typed.append(answer.strip())


def _poster(url: str | None, token: str | None) -> Callable[[dict[str, str]], str]:
    query = {"token": token} if token else {}
    if url:
        import requests

        def post(form: dict[str, str]) -> str:
            return requests.post(url.rstrip("/") + "/ussd/africastalking", data=form,
                                 params=query, timeout=10).text
        return post
    client = current_app.test_client()

    def post_local(form: dict[str, str]) -> str:
        return client.post("/ussd/africastalking", data=form, query_string=query).get_data(as_text=True)
    return post_local
COMMANDS = [ussd]
