"""A per-account send rate that holds across every worker, kept in Redis.

Each send reserves the account's next free slots (virtual scheduling, as in
GCRA): one Lua script reads the next free time, takes ``max(now, next)`` and
moves "next" on by ``count/rate``. The time is Redis's own clock, so workers on
several machines share one schedule; the caller sleeps until its slot.

Priority: replies and receipts book their slots whatever the schedule holds.
Reminders and broadcasts book only while the schedule is booked less than
``max_ahead`` seconds ahead (else they are told how long to wait, and book
nothing), and only a small slice at a time; so bulk sends never stand more
than about one slice ahead of a reply.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis import Redis

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local step = tonumber(ARGV[1]) * tonumber(ARGV[2])
local ahead = tonumber(ARGV[3])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if ahead >= 0 and nxt - now > ahead then
  return now + ahead - nxt
end
local slot = math.max(now, nxt)
redis.call('SET', KEYS[1], slot + step, 'PX', math.ceil((slot + step - now) / 1000) + 1000)
return slot - now
"""


class RateLimiter:
    """``rate`` messages per second on ``channel`` (an account), shared by all workers; 0: no limit."""

    def __init__(self, redis: Redis, channel: str, rate: float,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.key = f"kassa:rate:{channel}"
        self.rate = rate
        self.step_us = max(1, int(1_000_000 / rate)) if rate > 0 else 0
        self.sleep = sleep
        self._script = redis.register_script(_RESERVE) if self.step_us else None

    @property
    def limited(self) -> bool:
        return bool(self.step_us)

    def reserve(self, count: int = 1, max_ahead: float | None = None) -> float:
        """Book ``count`` slots; seconds until the first. Negative: not booked, ask again after ``-value``."""
        if not self._script:
            return 0.0
        ahead = -1 if max_ahead is None else int(max_ahead * 1_000_000)
        return int(self._script(keys=[self.key], args=[self.step_us, count, ahead])) / 1_000_000

    def wait(self, count: int = 1, max_ahead: float | None = None) -> float:
        """Book ``count`` slots (waiting for room when ``max_ahead`` is given) and sleep until the first."""
        waited = 0.0
        while True:
            delay = self.reserve(count, max_ahead)
            if delay >= 0:
                break
            self.sleep(-delay)
            waited -= delay
        if delay > 0:
            self.sleep(delay)
        return waited + delay
