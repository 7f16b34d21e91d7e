"""``SMS_BACKEND=console``: the message is stored (it is an outbox row) and printed; nothing leaves."""
from __future__ import annotations

import sys
from typing import TextIO

from channels import Outgoing, Result, Sent, one_by_one, send_each


class ConsoleChannel:
    name = "console"
    account = "console"
    parallel = False  # prints in order

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, msg: Outgoing) -> Sent:
        out = self.stream or sys.stdout
        print(f"--- SMS #{msg.outbox_id} to {msg.to} ---\n{msg.text}\n---", file=out, flush=True)
        return Sent(provider=self.name, provider_id=f"console-{msg.outbox_id}", delivered=True)

    def group(self, msgs: list[Outgoing]) -> list[list[Outgoing]]:
        return one_by_one(msgs)

    def send_group(self, msgs: list[Outgoing]) -> list[Result]:
        return send_each(self, msgs)
