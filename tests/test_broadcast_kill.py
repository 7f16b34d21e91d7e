"""A fan-out killed with SIGKILL mid-batch resumes with no duplicate and no gap.

The fan-out runs in a real subprocess (``flask broadcast resume``) that pauses
inside each batch's transaction (``KASSA_FANOUT_PAUSE``), so the kill lands
with a batch written but not committed.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from messaging.models import OutboxMessage
from outreach import broadcast as bc
from outreach.models import Broadcast, BroadcastStatus
from tests.outreach_helpers import make_group

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Engine, Row

    from outreach.models import BroadcastStatus
    from services import Services

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.UTC


def _state(engine: Engine,
           broadcast_id: int) -> tuple[int, int, BroadcastStatus, Sequence[Row[int | None, int | None]]]:
    """Read-only look (a plain engine: on SQLite it never waits for the writer's lock)."""
    with Session(engine) as s:
        b = s.get_one(Broadcast, broadcast_id)
        rows = s.execute(select(OutboxMessage.member_id, OutboxMessage.group_id)
                         .where(OutboxMessage.kind == "broadcast")).all()
        return b.cursor, b.written, b.status, rows


def test_sigkill_mid_fan_out_then_resume_every_recipient_exactly_once(
        services: Services, db_url: str, redis_url: str) -> None:
    with services.db.transaction() as s:
        for code in ("KA", "KB", "KC", "KD", "KE", "KF"):
            make_group(s, code, n=10, timezone="Africa/Nairobi")
        b = bc.create_broadcast(s, coordinator=None, target=bc.Target(everyone=True), message="Meeting moved",
                                key="kill", sender="HiH")
        bc.confirm(s, b, dt.datetime.now(UTC), enqueue=False)
        expected = b.recipients
    assert expected == 60
    env = dict(os.environ, DATABASE_URL=db_url, REDIS_URL=redis_url, KASSA_FANOUT_PAUSE="0.4",
               FLASK_APP="app")
    proc = subprocess.Popen([sys.executable, "-m", "flask", "broadcast", "resume", str(b.id), "--batch", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    reader = create_engine(db_url)
    try:
        deadline = time.monotonic() + 60
        while _state(reader, b.id)[1] < 20:  # at least two batches (groups) committed
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the fan-out never started"
            time.sleep(0.05)
        time.sleep(0.2)  # inside the next batch's transaction (it pauses 0.4 s before committing)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    cursor, written, status, rows = _state(reader, b.id)
    assert status == BroadcastStatus.SENDING and 20 <= written < expected
    # every group up to the cursor is complete, none after it was started: the killed batch left nothing
    assert len(rows) == written == 10 * cursor and all(g is not None and g <= cursor for _, g in rows)

    bc.run_fan_out(services, b.id, batch=2)

    cursor, written, status, rows = _state(reader, b.id)
    counts = Counter(m for m, _ in rows)
    assert status == BroadcastStatus.DONE and written == expected
    assert len(counts) == expected and set(counts.values()) == {1}
    reader.dispose()
