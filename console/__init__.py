"""The web console for staff (NGO coordinators and admins): a Blueprint under ``/console``.

Server-rendered Jinja with a little progressive JavaScript (htmx, served from
``console/static/vendor`` after ``make install``). Every word goes through the
i18n catalogs in the staff member's own language. The seams other modules use
are listed in ``console/README-dev.md``.
"""
from __future__ import annotations

import datetime as dt
import os
import secrets

from flask import Flask

import services
from config import INSTANCE, Config
from console.blueprint import bp, csrf, limiter


def _secret_key(cfg: Config) -> str:
    """The configured SECRET_KEY, else one kept in instance/ (development; production requires it)."""
    if cfg.SECRET_KEY:
        return cfg.SECRET_KEY
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(48))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path) if not path.exists() else tmp.unlink()
    return path.read_text().strip()


def _limiter_storage(cfg: Config) -> str:
    """Flask-Limiter counts in Redis (REDIS_URL); only a lone dev process without one counts in memory."""
    url = cfg.REDIS_URL
    if not url:
        return "memory://"
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]
    return url


def init_app(app: Flask) -> None:
    cfg = services.of(app).config
    app.config.update(
        SECRET_KEY=_secret_key(cfg),
        SESSION_COOKIE_NAME="kassa_console",
        SESSION_COOKIE_SECURE=bool(cfg.CONSOLE_SECURE_COOKIES),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=cfg.CONSOLE_SESSION_MINUTES),
        WTF_CSRF_CHECK_DEFAULT=False,  # only the console's forms carry a token (webhooks cannot)
        WTF_CSRF_TIME_LIMIT=cfg.CONSOLE_SESSION_MINUTES * 60,
        RATELIMIT_STORAGE_URI=_limiter_storage(cfg),
        RATELIMIT_HEADERS_ENABLED=False,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    from console import (  # noqa: F401  (the modules attach their routes to bp)
        auth,
        broadcasts,
        dashboard,
        desk,
        exports,
        field,
        groups,
        members,
        orgs,
        programmes,
        simulator,
        sms_log,
        staff,
        tables,
        web,
    )

    app.register_blueprint(bp)
