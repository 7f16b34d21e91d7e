"""A per-channel send rate that holds across every worker, kept in Redis.

Each send reserves the channel's next free slot (virtual scheduling, as in
GCRA): one Lua script reads the next free time, takes ``max(now, next)`` and
moves "next" on by ``1/rate``. The time is Redis's own clock, so workers on
several machines share one schedule; the caller sleeps until its slot. A
worker holds one slot at a time, so a reply never waits more than
``workers / rate`` seconds behind bulk sends.
"""
from __future__ import annotations

import time
from collections.abc import Callable

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local step = tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
redis.call('SET', KEYS[1], slot + step, 'PX', math.ceil((slot + step - now) / 1000) + 1000)
return slot - now
"""


class RateLimiter:
    """``rate`` messages per second on ``channel``, shared by all workers."""

    def __init__(self, redis, channel: str, rate: float,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.key = f"kassa:rate:{channel}"
        self.step_us = max(1, int(1_000_000 / rate)) if rate > 0 else 0
        self.sleep = sleep
        self._script = redis.register_script(_RESERVE)

    def reserve(self) -> float:
        """Take the next slot; return how many seconds from now it starts."""
        if not self.step_us:
            return 0.0
        return int(self._script(keys=[self.key], args=[self.step_us])) / 1_000_000

    def wait(self) -> float:
        """Take the next slot and sleep until it; return the wait."""
        delay = self.reserve()
        if delay > 0:
            self.sleep(delay)
        return delay
