"""Rate limits in memory and in a real Redis shared by every process."""

import secrets

import pytest

from kefu.core.errors import RateLimited
from kefu.security.ratelimit import MemoryRateLimiter, RedisRateLimiter, enforce

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_limit_is_enforced_per_key(kind: str) -> None:
    limiter = MemoryRateLimiter() if kind == "memory" else RedisRateLimiter(REDIS_URL)
    key = f"test:{secrets.token_hex(4)}"
    for _ in range(3):
        await enforce(limiter, key, limit=3, window_seconds=60)
    with pytest.raises(RateLimited):
        await enforce(limiter, key, limit=3, window_seconds=60)
    await enforce(limiter, key + ":other", limit=3, window_seconds=60)


async def test_two_redis_limiters_share_the_count() -> None:
    key = f"test:{secrets.token_hex(4)}"
    first, second = RedisRateLimiter(REDIS_URL), RedisRateLimiter(REDIS_URL)
    assert await first.hit(key, limit=2, window_seconds=60)
    assert await second.hit(key, limit=2, window_seconds=60)
    assert not await first.hit(key, limit=2, window_seconds=60)


async def test_memory_limiter_stays_bounded_under_a_flood_of_keys() -> None:
    limiter = MemoryRateLimiter()
    limiter.MAX_KEYS = 100
    for n in range(1000):
        await limiter.hit(f"ip:{n}", limit=5, window_seconds=60)
    assert len(limiter._windows) == 100
