"""gunicorn config for the benchmarks: each worker, once it has loaded the app, leaves a file
named by its pid in ``$BENCH_READY_DIR``; ``bench.ussd.serve`` waits for one per worker (a listening
port only says the master is up: its workers may still be importing the app)."""
from __future__ import annotations

import os
import runpy
from pathlib import Path

# Kassa's own settings first (no Server banner), as the Procfile's -c gunicorn.conf.py gives them.
runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))


def post_worker_init(worker: object) -> None:  # gunicorn's hook
    ready = os.environ.get("BENCH_READY_DIR")
    if ready:
        with open(os.path.join(ready, str(os.getpid())), "w"):
            pass
