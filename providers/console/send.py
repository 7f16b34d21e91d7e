"""``SMS_BACKEND=console``: the message is stored (it is an outbox row) and printed; nothing leaves.

Each SMS is printed to standard output as one block, apart from the logs
(which go to standard error), e.g.::

    ┌ SMS #12 to +254712000003 · en · 1 segment (GSM-7)
    │ Upendo Women Group: saved KES 200.00, ...
    └
"""
from __future__ import annotations

import sys
from typing import TextIO

from providers.base import Outgoing, Result, Sent, one_by_one, send_each
from text.gsm7 import shape


def render_block(msg: Outgoing) -> str:
    """The block the console prints for ``msg``: to, language, segments, text."""
    s = shape(msg.text)
    segments = f"{s.segments} segment{'s' if s.segments != 1 else ''} ({'GSM-7' if s.encoding == 'gsm7' else 'UCS-2'})"
    sms = f"SMS #{msg.outbox_id}" if msg.outbox_id else "SMS"
    head = " · ".join(part for part in (f"{sms} to {msg.to}", msg.language, segments) if part)
    body = "\n".join(f"│ {line}" for line in msg.text.splitlines() or [""])
    return f"┌ {head}\n{body}\n└"


class ConsoleChannel:
    name = "console"
    account = "console"
    parallel = False  # prints in order

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, msg: Outgoing) -> Sent:
        out = self.stream or sys.stdout
        print(render_block(msg), file=out, flush=True)
        return Sent(provider=self.name, provider_id=f"console-{msg.outbox_id}", delivered=True)

    def group(self, msgs: list[Outgoing]) -> list[list[Outgoing]]:
        return one_by_one(msgs)

    def send_group(self, msgs: list[Outgoing]) -> list[Result]:
        return send_each(self, msgs)
