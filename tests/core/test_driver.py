"""Core statements run directly on PostgreSQL's driver (core.driver)."""

import asyncio
import secrets
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, func, insert, select, text

from conftest import Desk
from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.db import make_engine
from kefu.core.driver import Direct, DriverStatement, direct, emit_after_commit, first
from kefu.core.errors import Unauthorized
from kefu.core.jobs import Job

JOBS = cast(Table, Job.__table__)


def _postgres(desk: Desk) -> None:
    if desk.backend != "postgresql":
        pytest.skip("the direct path is PostgreSQL's")


def test_a_statement_leaning_on_python_side_defaults_is_refused() -> None:
    """SQLAlchemy fills those per execution; run directly, the row would get NULLs."""
    partial = insert(JOBS).values(kind=bindparam("kind"), payload=bindparam("payload"))
    with pytest.raises(ValueError, match="status"):
        DriverStatement(partial)


def test_values_the_statement_carries_itself_are_sent() -> None:
    statement = DriverStatement(select(JOBS.c.id).where(JOBS.c.kind == bindparam("kind"))
                                .limit(1))
    assert statement.arguments({"kind": "x"}) == ["x", 1]
    with pytest.raises(KeyError):
        statement.arguments({})


async def test_json_and_utc_datetimes_round_trip(desk: Desk) -> None:
    _postgres(desk)
    now, kind = utcnow(), f"test.{secrets.token_hex(4)}"
    columns = {"kind": kind, "payload": {"to": "a@example.com", "n": [1, "二"]},
               "status": "done", "attempts": 0, "max_attempts": 1, "run_after": now,
               "created_at": now}
    write = (insert(JOBS).values({c: bindparam(c, type_=JOBS.c[c].type) for c in columns})
             .returning(JOBS.c.payload, JOBS.c.created_at))
    async with direct(desk.app.state.engine) as db:
        assert await first(db, write, columns) == (columns["payload"], now)
    with pytest.raises(ValueError, match="naive"):
        async with direct(desk.app.state.engine) as db:
            await first(db, write, {**columns, "created_at": now.replace(tzinfo=None)})


async def _backend_pid(db: Direct) -> int:
    row = await db.first(select(func.pg_backend_pid()), {})
    assert row is not None
    return int(row[0])


async def test_a_refused_statement_keeps_the_connection_a_cancelled_one_drops_it(
        desk: Desk) -> None:
    _postgres(desk)
    engine = make_engine(desk.settings.database_url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(Exception, match="division by zero"):
            async with direct(engine) as db:
                pid = await _backend_pid(db)
                await db.first(select(text("1/0")), {})
        async with direct(engine) as db:
            assert await _backend_pid(db) == pid  # the one connection is still good
        with pytest.raises(Unauthorized):
            async with direct(engine) as db:
                await _backend_pid(db)
                raise Unauthorized("refused between statements")
        async with direct(engine) as db:
            assert await _backend_pid(db) == pid  # idle when the error came: kept

        async def slow() -> None:
            async with direct(engine) as db:
                await db.first(select(func.pg_sleep(5)), {})

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with direct(engine) as db:  # its state unknown, it was replaced
            assert await _backend_pid(db) != pid
    finally:
        await engine.dispose()


async def test_events_of_a_direct_write_are_delivered_at_once(desk: Desk) -> None:
    _postgres(desk)
    seen: list[events.Event] = []
    events.subscribe("test.direct", seen.append)
    try:
        async with direct(desk.app.state.engine) as db:
            emit_after_commit(db, events.Event("test.direct", {"n": 1}))
            assert seen == [events.Event("test.direct", {"n": 1})]
    finally:
        events.unsubscribe("test.direct", seen.append)


async def test_direct_refuses_sqlite(desk: Desk) -> None:
    if desk.backend == "postgresql":
        pytest.skip("SQLite's refusal")
    with pytest.raises(ValueError, match="PostgreSQL"):
        async with direct(desk.app.state.engine):
            pass
