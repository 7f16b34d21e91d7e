"""Liveness, readiness (which dependency is down) and Prometheus metrics."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

import metrics

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    return jsonify(status="ok")


@bp.get("/ready")
def ready():
    """200 when the database and Redis answer; else 503 naming each one that does not, and why."""
    services = current_app.extensions["kassa"]
    checks = {"database": _check(lambda: _db_ping(services)),
              "redis": _check(services.redis.ping)}
    down = [name for name, v in checks.items() if v != "ok"]
    return jsonify(status="unavailable" if down else "ok", down=down, **checks), (503 if down else 200)


@bp.get("/metrics")
def prometheus():
    return Response(metrics.render(current_app.extensions["kassa"]), mimetype=metrics.CONTENT_TYPE)


def _db_ping(services) -> None:
    with services.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check(fn) -> str:
    try:
        fn()
        return "ok"
    except Exception as exc:  # any failure means not ready
        detail = str(exc).splitlines()[0][:120] if str(exc) else ""
        return f"error: {type(exc).__name__}" + (f": {detail}" if detail else "")
