"""The SMS jobs: sending outbox rows and running the command of a stored inbound SMS.

Enqueued by :mod:`messaging.dispatch` (one reply or receipt, a drain),
:mod:`messaging.bulk` (chunks of reminders and broadcast messages) and the
sender's own retries, all by the dotted names ``jobs.sms.<job>``.
"""
from __future__ import annotations

import reports.maintain  # noqa: F401  (its commit hook counts the SMS the sender records, for the dashboard)
from commands.inbox import process
from jobs import current
from messaging.sender import deliver, drain_priority, send_chunk


def send_outbox(outbox_id: int) -> str:
    """Send outbox row ``outbox_id`` (a reply or receipt: its own job; a transient failure raises, RQ retries)."""
    return deliver(current(), outbox_id)


def send_many(outbox_ids: list[int]) -> dict[str, int]:
    """Send a chunk of rows (reminders, broadcasts, retries); never raises for a row."""
    return send_chunk(current(), outbox_ids)


def drain(priority: int) -> dict[str, int]:
    """Send every ready row of ``priority``, batch after batch (the sweeper's recovery)."""
    return drain_priority(current(), priority)


def process_inbox(inbox_id: int) -> str | None:
    """Run the command of stored inbound SMS ``inbox_id``, once (None if it was already run)."""
    return process(current(), inbox_id)
