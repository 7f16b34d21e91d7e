"""Liveness and readiness for the load balancer."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    return jsonify(status="ok")


@bp.get("/ready")
def ready():
    services = current_app.extensions["kassa"]
    checks = {"database": _check(lambda: _db_ping(services)),
              "redis": _check(services.redis.ping)}
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "unavailable", **checks), (200 if ok else 503)


def _db_ping(services) -> None:
    with services.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check(fn) -> str:
    try:
        fn()
        return "ok"
    except Exception as exc:  # any failure means not ready
        return f"error: {type(exc).__name__}"
