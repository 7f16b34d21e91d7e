"""Ports for the servers tests start, one share of a range per pytest-xdist worker.

A free port is found by binding it and letting it go; two workers probing the same range at
once could both find the same one before either server binds it. Each worker probes only its
own slice (gw0 the first half of 5300-5399, gw1 the second, ...); without xdist, the whole range.
"""
from __future__ import annotations

import os
import socket


def worker_range(start: int, stop: int) -> range:
    """This worker's share of ``range(start, stop)``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if not worker.startswith("gw") or count <= 1:
        return range(start, stop)
    index, size = int(worker[2:]), (stop - start) // count
    return range(start + index * size, start + (index + 1) * size)


def free_port(start: int, stop: int) -> int | None:
    """A port of this worker's share that nothing listens on now, or None."""
    for port in worker_range(start, stop):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return None
