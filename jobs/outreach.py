"""The outreach jobs: the reminder planner, the loan notices and a broadcast's fan-out.

Each takes plain values (ids, an ISO instant), builds its own transactions
and is safe to run twice: the outbox's unique ``dedupe_key`` refuses a second
copy of any reminder, notice or broadcast message.
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any

from jobs import current
from outreach import broadcast as bc
from outreach.loans import run_loan_notices
from outreach.planner import run_planner


def plan_reminders(now_iso: str | None = None) -> dict[str, Any]:
    """Run the reminder planner (``now_iso`` pins the clock, for replays and tests)."""
    return run_planner(current(), _instant(now_iso)).__dict__


def loan_notices(now_iso: str | None = None) -> int:
    """Write the loan notices due now (or at ``now_iso``); how many."""
    return run_loan_notices(current(), _instant(now_iso))


def fan_out(broadcast_id: int, batch: int = bc.FANOUT_BATCH) -> dict[str, Any]:
    """Fan a confirmed broadcast out into the outbox, resuming from its cursor."""
    summary = bc.run_fan_out(current(), broadcast_id, batch=batch, pause=fan_out_pause())
    return dict(summary.__dict__)


def fan_out_pause() -> float:
    """Seconds to sleep after each fan-out batch (``KASSA_FANOUT_PAUSE``): pacing, and kill tests."""
    return float(os.environ.get("KASSA_FANOUT_PAUSE") or 0)


def _instant(iso: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(iso) if iso else None
