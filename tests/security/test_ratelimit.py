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


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_crossing_a_window_boundary_does_not_reset_the_count(kind: str) -> None:
    """A fixed window gave a fresh limit at the boundary: 2x the hits in a few seconds."""
    clock = FakeClock(6_000_058.0)  # two seconds before a 60 s boundary
    limiter = MemoryRateLimiter(clock) if kind == "memory" else RedisRateLimiter(REDIS_URL, clock)
    key = f"test:{secrets.token_hex(4)}"
    assert [await limiter.hit(key, limit=3, window_seconds=60) for _ in range(3)] == [True] * 3
    clock.now += 4  # into the next window
    assert not await limiter.hit(key, limit=3, window_seconds=60)
    clock.now += 45  # the 3 weigh 13/60 now; with the refused one, 2.65 < 3: room
    assert await limiter.hit(key, limit=3, window_seconds=60)
    clock.now += 120  # two windows on, nothing of the past counts
    assert [await limiter.hit(key, limit=3, window_seconds=60) for _ in range(3)] == [True] * 3


async def test_memory_limiter_stays_bounded_under_a_flood_of_keys() -> None:
    limiter = MemoryRateLimiter()
    limiter.MAX_KEYS = 100
    for n in range(1000):
        await limiter.hit(f"ip:{n}", limit=5, window_seconds=60)
    assert len(limiter._windows) == 100
