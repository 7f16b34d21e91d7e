"""Liveness, readiness (which dependency is down) and Prometheus metrics."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

import metrics
from services import Services, current

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/ready")
def ready() -> ResponseReturnValue:
    """200 when the database and Redis answer; else 503 naming each one that does not, and why."""
    services = current()
    checks = {"database": _check(lambda: _db_ping(services)),
              "redis": _check(services.redis.ping)}
    down = [name for name, v in checks.items() if v != "ok"]
    return jsonify(status="unavailable" if down else "ok", down=down, **checks), (503 if down else 200)


@bp.get("/metrics")
def prometheus() -> ResponseReturnValue:
    return Response(metrics.render(current()), mimetype=metrics.CONTENT_TYPE)


def _db_ping(services: Services) -> None:
    with services.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check(fn: Callable[[], object]) -> str:
    try:
        fn()
        return "ok"
    except Exception as exc:  # any failure means not ready
        detail = str(exc).splitlines()[0][:120] if str(exc) else ""
        return f"error: {type(exc).__name__}" + (f": {detail}" if detail else "")
