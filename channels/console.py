"""``SMS_BACKEND=console``: the message is stored (it is an outbox row) and printed; nothing leaves."""
from __future__ import annotations

import sys
from typing import TextIO

from channels import Outgoing, Sent


class ConsoleChannel:
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, msg: Outgoing) -> Sent:
        out = self.stream or sys.stdout
        print(f"--- SMS #{msg.outbox_id} to {msg.to} ---\n{msg.text}\n---", file=out, flush=True)
        return Sent(provider=self.name, provider_id=f"console-{msg.outbox_id}", delivered=True)
