"""Sliding-window rate limits, in memory (embedded) or in Redis (shared by every process).

A fixed window lets a client spend its limit at the end of one window and again at the
start of the next; and a test (or attacker) crossing the boundary sees the count reset.
Each limiter keeps the previous window's count too and weighs it by how much of that
window still lies inside the last `window_seconds` (the sliding-window counter).
"""

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from kefu.core.errors import RateLimited

Clock = Callable[[], float]


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window_seconds: int) -> bool:
        """Count one hit; True while the key is within its limit."""
        ...


def _within(previous: int, current: int, now: float, window_seconds: int, limit: int) -> bool:
    still_inside = 1 - (now % window_seconds) / window_seconds
    return previous * still_inside + current <= limit


class MemoryRateLimiter:
    MAX_KEYS = 100_000

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        # key -> (window number, hits in it, hits in the window before)
        self._windows: OrderedDict[str, tuple[int, int, int]] = OrderedDict()

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> bool:
        now = self._clock()
        window = int(now // window_seconds)
        seen, current, previous = self._windows.pop(key, (window, 0, 0))
        if seen == window - 1:
            current, previous = 0, current
        elif seen != window:
            current, previous = 0, 0
        current += 1
        self._windows[key] = (window, current, previous)
        # Bounded memory: a flood of distinct keys evicts the oldest.
        while len(self._windows) > self.MAX_KEYS:
            self._windows.popitem(last=False)
        return _within(previous, current, now, window_seconds, limit)


class RedisRateLimiter:
    def __init__(self, url: str, clock: Clock = time.time) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._clock = clock

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> bool:
        now = self._clock()
        window = int(now // window_seconds)
        current_key = f"kefu:rl:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(current_key)
            pipe.expire(current_key, 2 * window_seconds + 1)  # read as "previous" next
            pipe.get(f"kefu:rl:{key}:{window - 1}")
            current, _, previous = await pipe.execute()
        return _within(int(previous or 0), int(current), now, window_seconds, limit)


async def enforce(limiter: RateLimiter, key: str, *, limit: int, window_seconds: int) -> None:
    if not await limiter.hit(key, limit=limit, window_seconds=window_seconds):
        # The sliding window forgets a hit within one window: a safe upper bound.
        raise RateLimited(retry_after=window_seconds)
