"""``SMS_BACKEND=console`` (the default): each SMS is stored and printed; nothing leaves.

No configuration, no webhooks; production refuses it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from providers.base import Provider

if TYPE_CHECKING:
    from config import Config
    from providers.base import Channel

NAME = "console"


def channel(_config: Config) -> Channel:
    from providers.console.send import ConsoleChannel

    return ConsoleChannel()


PROVIDER = Provider(name=NAME, channel=channel, for_production=False)
