"""Several web processes behave as one: two uvicorn processes on one PostgreSQL database
and one Redis; an agent whose stream is on process 1 hears of a ticket filed through
process 2, and a reconnect to process 2 catches up on what it missed."""

import asyncio
import os
import socket
from collections.abc import Iterator

import pytest
from test_live import AGENT, about, customer_session, file_ticket, reply

from conftest import _postgres_url
from e2e.e2e_support import EventStream, Server, kefu_process, signed_in

REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    if not _redis_up():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (make services)")
    url, drop = asyncio.run(_postgres_url())
    tmp = tmp_path_factory.mktemp("two")
    env = {"KEFU_DATABASE_URL": url, "KEFU_REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0"}
    try:
        # One after the other: the first migrates and seeds, the second finds it done.
        # One data folder (demo logins); the origin allowed is each one's own.
        with kefu_process(tmp, data_dir=tmp / "data", env=env) as first, \
                kefu_process(tmp, data_dir=tmp / "data", env=env) as second:
            yield first, second
    finally:
        asyncio.run(drop())


def test_an_event_crosses_processes(two_servers: tuple[Server, Server]) -> None:
    one, two = two_servers
    assert one.pid != two.pid
    stream = EventStream(signed_in(one, AGENT), "/console/events")
    try:
        customer = customer_session(two, "two-process-trader@example.com")
        reference = file_ticket(customer, subject="Filed through process 2")
        created = stream.until(about(reference, "ticket.created"))[-1]
        reply(customer, reference, "Also sent through process 2")
        message = stream.until(about(reference, "ticket.message"))[-1]
        assert created.id is not None and message.id is not None and message.id > created.id
        # Once each: the process that made the change hears it back from Redis only.
        later = stream.drain(quiet=1.0)
        assert all(f.id not in (created.id, message.id) for f in later)
    finally:
        stream.close()

    # Reconnecting to the other process resumes from the shared feed.
    reply(customer, reference, "Sent while the agent was away")
    again = EventStream(signed_in(two, AGENT), "/console/events",
                        {"last-event-id": str(message.id)})
    try:
        missed = again.until(lambda f: (f.id or 0) > (message.id or 0))
        assert missed[-1].data["name"] == "ticket.message"
        assert missed[-1].data["reference"] == reference
        # Before it, only the overlap the browser skips (ids it had).
        assert all(f.id is not None and f.id <= message.id for f in missed[:-1])
    finally:
        again.close()


def test_servers_are_separate_process_groups(two_servers: tuple[Server, Server]) -> None:
    one, two = two_servers
    assert os.getpgid(one.pid) == one.pid and os.getpgid(two.pid) == two.pid
