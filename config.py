"""Configuration from the environment (and ``.env`` when present).

The variables are listed in README.md (Configuration); this module is their one reader.
Nothing here opens a connection.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
#: gunicorn's settings (no server banner), passed with -c by every command that serves Kassa.
GUNICORN_CONFIG = ROOT / "gunicorn.conf.py"
#: Where the SQLite file and the embedded Redis live by default (``KASSA_INSTANCE`` moves it).
INSTANCE = Path(os.environ.get("KASSA_INSTANCE") or ROOT / "instance")


#: Config's own bookkeeping, never read from the environment.
_INNER = ("extra", "given", "env")


class ConfigError(RuntimeError):
    """The configuration cannot run Kassa; the message says what to set."""


@dataclass
class Config:
    DATABASE_URL: str = ""
    REDIS_URL: str = ""
    SMS_BACKEND: str = "console"
    USSD_SERVICE_CODE: str = "*384*123#"
    WEBHOOK_TOKEN: str | None = None
    PUBLIC_URL: str | None = None
    KASSA_ENV: str = "development"
    PIN_PEPPER: str | None = None
    DEFAULT_LANGUAGE: str = "en"
    SMS_RATE_PER_SECOND: float = 10.0  # per provider account, shared by every worker (0: no limit)
    SMS_SEND_CONCURRENCY: int = 8  # provider requests in flight per worker process
    SMS_BATCH: int = 500  # outbox rows a send job claims (and records) in one statement
    SMS_SEGMENT_PRICE: str = "0.80"  # what one SMS segment costs, in major units (broadcast previews)
    SMS_PRICE_CURRENCY: str = "KES"
    # More prices per segment, in the currency of the groups they are for: "INR=0.25,VND=250"
    # (the dashboard's SMS cost per currency; a currency without a price shows no cost).
    SMS_SEGMENT_PRICES: str = ""
    USSD_SESSION_TTL: int = 180
    USSD_RESUME_SECONDS: int = 120
    LEDGER_CACHE_SECONDS: int = 600  # how long a member's position may be served from Redis (0: never)
    SECRET_KEY: str | None = None  # signs the console's session cookies (development: kept in instance/)
    VISIT_ALERT_WEEKS: int = 4  # flag groups no field worker has visited in this many weeks (0: never)
    CONSOLE_SECURE_COOKIES: bool = True  # cookies only over https; 0 for a local http console
    CONSOLE_SESSION_MINUTES: int = 480  # a console login lasts this long
    CONSOLE_LOGIN_LIMIT: str = "5 per 15 minutes"  # failed logins per account before it is locked
    CONSOLE_ADDRESS_LIMIT: str = "30 per 15 minutes"  # failed logins per address
    # A provider's own variables (AT_USERNAME, TWILIO_AUTH_TOKEN, ...) are no fields: its folder
    # lists them (providers/<name>/) and reads them with ``setting``, from ``extra`` or ``env``.
    extra: dict[str, Any] = field(default_factory=dict)
    given: set[str] = field(default_factory=set)  # names set explicitly (env or overrides)
    env: dict[str, str] = field(default_factory=dict)  # the environment read

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
        """Read the contract variables from ``env`` (default: os.environ after .env)."""
        if env is None:
            _load_dotenv()
            env = os.environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in _INNER and env.get(f.name) not in (None, ""):
                values[f.name] = env[f.name]
        cfg = cls(**values)
        cfg.given = set(values)
        cfg.env = dict(env)
        for key, value in (overrides or {}).items():
            if hasattr(cfg, key) and key not in _INNER:
                setattr(cfg, key, value)
                if value not in (None, ""):
                    cfg.given.add(key)
            else:
                cfg.extra[key] = value
        cfg.SMS_RATE_PER_SECOND = float(cfg.SMS_RATE_PER_SECOND)
        cfg.SMS_SEND_CONCURRENCY = max(1, int(cfg.SMS_SEND_CONCURRENCY))
        cfg.SMS_BATCH = max(1, int(cfg.SMS_BATCH))
        cfg.USSD_SESSION_TTL = int(cfg.USSD_SESSION_TTL)
        cfg.USSD_RESUME_SECONDS = int(cfg.USSD_RESUME_SECONDS)
        cfg.LEDGER_CACHE_SECONDS = int(cfg.LEDGER_CACHE_SECONDS)
        cfg.CONSOLE_SESSION_MINUTES = int(cfg.CONSOLE_SESSION_MINUTES)
        cfg.VISIT_ALERT_WEEKS = max(0, int(cfg.VISIT_ALERT_WEEKS))
        if isinstance(cfg.CONSOLE_SECURE_COOKIES, str):
            cfg.CONSOLE_SECURE_COOKIES = cfg.CONSOLE_SECURE_COOKIES.strip().lower() not in ("0", "false", "no", "off")
        cfg.DATABASE_URL = cfg.DATABASE_URL or f"sqlite:///{INSTANCE / 'kassa.sqlite3'}"
        return cfg

    @property
    def production(self) -> bool:
        return self.KASSA_ENV == "production"

    @property
    def embedded_redis(self) -> bool:
        return not self.REDIS_URL

    def setting(self, name: str) -> str | None:
        """A variable no field declares (a provider's): the override, else the environment; '' is unset."""
        value = self.extra[name] if name in self.extra else self.env.get(name)
        return None if value is None or value == "" else str(value)

    def missing_secrets(self, needs: Iterable[str] = ()) -> list[str]:
        """The variables production needs (``needs``: the providers', see ``providers.registry``) but lacks."""
        need = ["WEBHOOK_TOKEN", "PIN_PEPPER", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", *needs]
        return [n for n in dict.fromkeys(need) if not self._given(n)]

    def _given(self, name: str) -> bool:
        return name in self.given or (not hasattr(self, name) and self.setting(name) is not None)

    def check(self, needs: Iterable[str] = ()) -> None:
        """Refuse to run in production without the secrets Kassa and its providers (``needs``) need.

        The providers' part (a known ``SMS_BACKEND``, their variables) is ``providers.registry.check_config``,
        which calls this.
        """
        if self.production:
            missing = self.missing_secrets(needs)
            if missing:
                raise ConfigError(
                    "KASSA_ENV=production refuses to start: set " + ", ".join(missing)
                    + " (see README, 'Production configuration')."
                )


def _load_dotenv() -> None:
    env_file = ROOT / ".env"
    if env_file.exists():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
