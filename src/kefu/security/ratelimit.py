"""Fixed-window rate limits, in memory (embedded) or in Redis (shared by every process)."""

import time
from collections import OrderedDict
from typing import Protocol

from kefu.core.errors import RateLimited


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window_seconds: int) -> bool:
        """Count one hit; True while the key is within its limit."""
        ...


class MemoryRateLimiter:
    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._windows: OrderedDict[str, tuple[int, int]] = OrderedDict()

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> bool:
        window = int(time.time() // window_seconds)
        current_window, count = self._windows.pop(key, (window, 0))
        count = count + 1 if current_window == window else 1
        self._windows[key] = (window, count)
        # Bounded memory: a flood of distinct keys evicts the oldest.
        while len(self._windows) > self.MAX_KEYS:
            self._windows.popitem(last=False)
        return count <= limit


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> bool:
        window = int(time.time() // window_seconds)
        redis_key = f"kefu:rl:{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(redis_key)
            pipe.expire(redis_key, window_seconds + 1)
            count, _ = await pipe.execute()
        return int(count) <= limit


async def enforce(limiter: RateLimiter, key: str, *, limit: int, window_seconds: int) -> None:
    if not await limiter.hit(key, limit=limit, window_seconds=window_seconds):
        raise RateLimited()
