"""Scheduler task: recompute the date-dependent figures of groups whose local date moved on."""
from __future__ import annotations

import datetime as dt

from reports.maintain import refresh_due

BATCH = 2000


def task_refresh_figures(services, now: dt.datetime) -> int:
    """PAR30, overdue loans and repayment rate of every group with loans, once per local day."""
    done = 0
    while True:
        with services.db.transaction() as session:
            n = refresh_due(session, now, BATCH)
        done += n
        if n < BATCH:
            return done
