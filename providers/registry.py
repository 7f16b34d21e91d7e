"""Every provider Kassa speaks to, by name: the one list the handlers, the sender and the
configuration check read. Adding a provider: its folder (``providers/<name>/``, whose
``PROVIDER`` describes it) and one line in :data:`PROVIDERS`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from providers import africastalking, console, twilio
from providers.base import Provider

if TYPE_CHECKING:
    from config import Config
    from providers.base import Channel

PROVIDERS: dict[str, Provider] = {p.name: p for p in (
    console.PROVIDER,
    africastalking.PROVIDER,
    twilio.PROVIDER,
)}


def get_provider(name: str) -> Provider:
    """The provider called ``name`` (``KeyError`` for none)."""
    return PROVIDERS[name]


def get_channel(config: Config) -> Channel:
    """The sending channel of the provider ``SMS_BACKEND`` names, built from the configuration."""
    return PROVIDERS[config.SMS_BACKEND].channel(config)


def check_config(config: Config) -> None:
    """Refuse a configuration Kassa cannot run on: ``SMS_BACKEND`` no provider's name; in
    production, a variable Kassa or a provider needs missing, or a backend that sends nothing."""
    from config import ConfigError

    provider = PROVIDERS.get(config.SMS_BACKEND)
    if provider is None:
        *others, last = PROVIDERS
        raise ConfigError(f"SMS_BACKEND must be {', '.join(others)} or {last}, not {config.SMS_BACKEND!r}")
    config.check(needs=[n for p in PROVIDERS.values() for n in p.needs(config)])
    if config.production and not provider.for_production:
        real = " or ".join(p.name for p in PROVIDERS.values() if p.for_production)
        raise ConfigError(f"KASSA_ENV=production refuses SMS_BACKEND={provider.name}: choose {real}.")
