"""The USSD caller cache's key, kept here so that whatever changes what a caller sees (her
group's rules, her roles, her programme) can drop her cached caller without importing the menus."""
from __future__ import annotations

import redis

WHO_KEY = "ussd:w:{}"


def forget_caller(client: redis.Redis, phone: str) -> None:
    """Drop the cached caller for ``phone`` (after her language or role changed elsewhere)."""
    client.delete(WHO_KEY.format(phone))
