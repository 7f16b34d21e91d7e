"""Kassa's web application: ``create_app`` wires config, services, handlers and the CLI."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from config import Config, ConfigError
from ledger import invalidation
from logsetup import configure_logging
from providers.registry import check_config
from services import EXTENSION, Services


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides environment values (tests pass their own)."""
    cfg = Config.from_env(overrides=config)
    check_config(cfg)
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, TESTING=bool(cfg.extra.get("TESTING")))
    services = app.extensions[EXTENSION] = Services.build(cfg)
    invalidation.install(services.db.sessionmaker, lambda: services.redis)  # cached ledger reads dropped on commit
    configure_logging()

    import cli
    import console
    import handlers

    handlers.init_app(app)
    console.init_app(app)
    cli.init_app(app)
    return app


__all__ = ["create_app", "ConfigError"]
