"""The bus that carries committed events to live clients: fan-out in one process, a
slow or dead client dropped without holding up the others, and Redis across processes."""

import asyncio
import secrets
import socket
import threading
import time

import pytest

from kefu.core import bus, events

NAME = "test.bus"


def _event(i: int) -> events.Event:
    return events.Event(NAME, {"reference": f"KF-{i}"}, id=i)


async def _collect(subscription: bus.Subscription, count: int, got: list[int]) -> None:
    while len(got) < count:
        item = await subscription.next(5.0)
        assert item is not None, f"stalled after {got}"
        got.append(item.id or 0)


async def test_a_slow_client_is_dropped_and_never_blocks_the_others() -> None:
    local = bus.LocalBus({NAME}, queue_size=4)
    await local.start()
    try:
        fast = await local.subscribe()
        stuck = await local.subscribe()  # never reads: a frozen tab, a dead connection
        got: list[int] = []
        reader = asyncio.create_task(_collect(fast, 50, got))
        started = time.monotonic()
        for i in range(1, 51):
            events.publish(_event(i))  # what a commit does; it must return at once
            await asyncio.sleep(0.001)  # a reader that keeps up gets its turn
        await asyncio.wait_for(reader, 5)
        assert got == list(range(1, 51))
        assert stuck.dropped and not fast.dropped
        assert local.subscribers == 1
        assert time.monotonic() - started < 2
        assert await stuck.next(0.01) is None  # the stream ends; the browser reconnects
    finally:
        await local.stop()


async def test_an_event_from_another_thread_arrives() -> None:
    local = bus.LocalBus({NAME})
    await local.start()
    try:
        subscription = await local.subscribe()
        thread = threading.Thread(target=events.publish, args=(_event(7),))
        thread.start()
        thread.join()
        item = await subscription.next(5.0)
        assert item is not None and item.id == 7
    finally:
        await local.stop()


async def test_stopped_bus_hears_nothing() -> None:
    local = bus.LocalBus({NAME})
    await local.start()
    subscription = await local.subscribe()
    await local.stop()
    events.publish(_event(1))
    assert subscription.dropped and subscription.queue.empty()


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")
async def test_redis_carries_events_between_buses_once() -> None:
    channel = f"kefu:test:{secrets.token_hex(4)}"
    url = "redis://127.0.0.1:6379/0"
    sender = bus.RedisBus({NAME}, url=url, channel=channel)  # hears this process's events
    other = bus.RedisBus((), url=url, channel=channel)  # as if in another process
    await sender.start()
    await other.start()
    try:
        await asyncio.wait_for(sender.listening.wait(), 5)
        await asyncio.wait_for(other.listening.wait(), 5)
        here, there = await sender.subscribe(), await other.subscribe()
        events.publish(_event(42))
        for subscription in (here, there):
            item = await subscription.next(5.0)
            assert item is not None and (item.id, item.data) == (42, {"reference": "KF-42"})
        # Delivered through Redis only: the sender's own clients get it once, not twice.
        assert await here.next(0.3) is None
    finally:
        await sender.stop()
        await other.stop()


def test_channels_are_per_database() -> None:
    a = bus.channel_for("postgresql+asyncpg://db/one")
    assert a == bus.channel_for("postgresql+asyncpg://db/one")
    assert a != bus.channel_for("postgresql+asyncpg://db/two")


async def test_without_redis_this_process_still_hears_its_own_events() -> None:
    with socket.socket() as sock:  # a port nothing listens on: Redis is down
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = bus.RedisBus({NAME}, url=f"redis://127.0.0.1:{port}/0", channel="kefu:test:down")
    await down.start()
    try:
        subscription = await down.subscribe()
        events.publish(_event(5))
        item = await subscription.next(5.0)
        assert item is not None and item.id == 5
    finally:
        await down.stop()
