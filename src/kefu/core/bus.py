"""Fan-out of committed events to live clients: in one process, or across processes.

`LocalBus` (the embedded default) hands every event it is told about to each
subscription of this process. `RedisBus` (with `KEFU_REDIS_URL`) publishes each event
on a Redis channel instead, and one listener task per process fans what arrives out to
that process's subscriptions, so an agent connected to any process hears about a change
made through any other.

Delivery is at most once (Redis pub/sub keeps nothing for a listener that is away), so
the database stays the source of truth: events carry their feed row's id and a client
that lost some asks for what came after the last id it saw.

A subscription takes every event, or only those addressed to one of its keys (an
event's `data["keys"]`: a chat's customer listens to `chat:12`, an agent to `agent:5`),
so ten thousand chat connections cost one dictionary lookup per event, not ten thousand.

Each subscription has a bounded queue. A client that does not keep up (or is gone) is
dropped when its queue is full, never waited for: the others go on, and the dropped
client reconnects and catches up from the database.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Iterable
from typing import Any

import redis.asyncio as redis

from kefu.core import events

log = logging.getLogger(__name__)

QUEUE_SIZE = 256  # per client; a console reads them as fast as they come
OUTBOX_SIZE = 10_000  # events waiting to be sent to Redis
RECONNECT_SECONDS = 1.0


class Subscription:
    """One client's queue. `dropped` means it fell behind and must catch up elsewhere."""

    def __init__(self, size: int, keys: frozenset[str] = frozenset()) -> None:
        self.queue: asyncio.Queue[events.Event] = asyncio.Queue(size)
        self.dropped = False
        self.keys = keys  # empty: every event

    async def next(self, wait: float) -> events.Event | None:
        """The next event, or None after `wait` seconds without one (or once dropped)."""
        if self.dropped:
            return None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):  # no extra task, unlike wait_for
                return await self.queue.get()
        return None


class LocalBus:
    """Fan-out inside this process."""

    def __init__(self, names: Iterable[str], *, queue_size: int = QUEUE_SIZE) -> None:
        self.names = frozenset(names)
        self.queue_size = queue_size
        self._subscriptions: set[Subscription] = set()  # every event
        self._keyed: dict[str, set[Subscription]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def started(self) -> bool:
        return self._loop is not None

    async def start(self) -> None:
        """Listen to `kefu.core.events` (idempotent)."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        for name in self.names:
            events.subscribe(name, self._on_event)
        await self._start_transport()

    async def stop(self) -> None:
        for name in self.names:
            events.unsubscribe(name, self._on_event)
        await self._stop_transport()
        self.drop_all()
        self._loop = None

    async def subscribe(self, keys: Iterable[str] = ()) -> Subscription:
        """Every event, or with `keys` only the events addressed to one of them."""
        await self.start()
        subscription = Subscription(self.queue_size, frozenset(keys))
        if not subscription.keys:
            self._subscriptions.add(subscription)
        for key in subscription.keys:
            self._keyed.setdefault(key, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        for key in subscription.keys:
            keyed = self._keyed.get(key)
            if keyed is not None:
                keyed.discard(subscription)
                if not keyed:
                    del self._keyed[key]

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions) + len(
            {s for keyed in self._keyed.values() for s in keyed})

    def _on_event(self, item: events.Event) -> None:
        # Called after commit, usually on this loop's thread; a thread elsewhere (a
        # synchronous job) hands it over, since asyncio queues are not thread-safe.
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._send(item)
        else:
            loop.call_soon_threadsafe(self._send, item)

    def _send(self, item: events.Event) -> None:
        self.deliver(item)

    def deliver(self, item: events.Event) -> None:
        """Hand `item` to each subscription of this process that takes it, dropping the
        full ones."""
        targets = set(self._subscriptions)
        for key in item.data.get("keys", ()):
            targets.update(self._keyed.get(key, ()))
        for subscription in targets:
            try:
                subscription.queue.put_nowait(item)
            except asyncio.QueueFull:
                subscription.dropped = True
                self.unsubscribe(subscription)

    def drop_all(self) -> None:
        """Every client catches up from the database (after events may have been lost)."""
        for subscription in self._subscriptions:
            subscription.dropped = True
        for keyed in self._keyed.values():
            for subscription in keyed:
                subscription.dropped = True
        self._subscriptions.clear()
        self._keyed.clear()

    async def _start_transport(self) -> None:
        pass

    async def _stop_transport(self) -> None:
        pass


def encode(item: events.Event) -> str:
    return json.dumps({"name": item.name, "id": item.id, "data": item.data}, default=str)


def decode(raw: str | bytes) -> events.Event:
    body: dict[str, Any] = json.loads(raw)
    return events.Event(str(body["name"]), dict(body["data"]), id=body.get("id"))


def channel_for(database_url: str) -> str:
    """One channel per desk: processes on one database share it, and two desks that
    share a Redis do not hear each other."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return f"kefu:desk-events:{digest}"


class RedisBus(LocalBus):
    """Events of every process on one Redis channel; each process fans out its own."""

    def __init__(self, names: Iterable[str], *, url: str, channel: str,
                 queue_size: int = QUEUE_SIZE) -> None:
        super().__init__(names, queue_size=queue_size)
        self.url = url
        self.channel = channel
        self._outbox: asyncio.Queue[events.Event] = asyncio.Queue(OUTBOX_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        self._client: redis.Redis | None = None
        self.listening = asyncio.Event()  # set while subscribed to the channel

    def _send(self, item: events.Event) -> None:
        # Not delivered here: it comes back from Redis like everyone else's, once.
        try:
            self._outbox.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("bus: Redis outbox full, event %s not sent live", item.id)

    async def _start_transport(self) -> None:
        self._client = redis.Redis.from_url(self.url)
        self._tasks = [asyncio.create_task(self._publish_forever()),
                       asyncio.create_task(self._listen_forever())]

    async def _stop_transport(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _publish_forever(self) -> None:
        assert self._client is not None
        while True:
            item = await self._outbox.get()
            try:
                await self._client.publish(self.channel, encode(item))
            except (redis.RedisError, OSError) as exc:
                # Other processes miss it live (the row is in the database); this
                # process's clients at least hear it.
                log.warning("bus: could not publish event %s: %s", item.id, exc)
                self.deliver(item)

    async def _listen_forever(self) -> None:
        assert self._client is not None
        lost = False
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    if lost:
                        # What was published while away never reached this process's
                        # clients: they reconnect and read it from the database.
                        self.drop_all()
                    self.listening.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.deliver(decode(message["data"]))
            except (redis.RedisError, OSError) as exc:
                log.warning("bus: Redis listener lost (%s); reconnecting", exc)
            lost = True
            self.listening.clear()
            await asyncio.sleep(RECONNECT_SECONDS)


def make_bus(names: Iterable[str], *, redis_url: str, database_url: str,
             topic: str = "") -> LocalBus:
    """`topic` names a second bus of the same desk (chat), on its own Redis channel."""
    if redis_url:
        channel = channel_for(database_url) + (f":{topic}" if topic else "")
        return RedisBus(names, url=redis_url, channel=channel)
    return LocalBus(names)
