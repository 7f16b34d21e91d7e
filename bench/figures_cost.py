"""What keeping the dashboard's figures adds to a posting: CPU per posting and commit, with and without.

One SHG of 22 members on SQLite (a temporary file); each round, every member saves once and
each posting is committed alone (the worst case: an SMS of 20 items commits once), once with
the figures kept (``reports.maintain``) and once with them skipped; rounds interleaved.
Measured as CPU time of this thread (``time.thread_time``), so a busy machine changes little.

Run: ``python -m bench.figures_cost``.
"""
from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session  # noqa: E402

import ledger  # noqa: E402
import migrations  # noqa: E402
from db import make_engine  # noqa: E402
from ledger.books import group_today  # noqa: E402
from reports.maintain import SKIP  # noqa: E402
from tests.ledger_fixtures import key, make_books  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/cost.sqlite3"
        migrations.upgrade(url)
        engine = make_engine(url)
        s = Session(engine)
        books = make_books(s, "COST1", "shg", n_members=20)
        s.commit()
        today = group_today(books.group)
        cost: dict[bool, list[float]] = {True: [], False: []}
        for rnd in range(8):
            for skip in (False, True) if rnd % 2 == 0 else (True, False):
                day = today - dt.timedelta(weeks=100 - 2 * rnd - skip)
                start = time.thread_time()
                for m in books.everyone:
                    s.info[SKIP] = skip
                    ledger.record_saving(s, books.group, m, key=key(), actor=books.treasurer, on=day)
                    s.commit()
                cost[skip].append((time.thread_time() - start) * 1000 / len(books.everyone))
        s.close()
        engine.dispose()
    kept, skipped = statistics.median(cost[False]), statistics.median(cost[True])
    print(f"CPU per posting and its commit (median of 8 rounds): figures kept {kept:.2f} ms, "
          f"skipped {skipped:.2f} ms, +{kept - skipped:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
