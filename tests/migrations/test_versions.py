"""The migrations build exactly the models' schema, on SQLite and PostgreSQL, and carry
existing rows across (0007: the channel spine)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import _postgres_url
from kefu.core.db import make_engine
from kefu.core.migrate import upgrade
from kefu.models import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    drop = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    else:
        url, drop = await _postgres_url()
    made = make_engine(url)
    try:
        yield made
    finally:
        await made.dispose()
        if drop is not None:
            await drop()


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_the_migrated_schema_is_the_models_schema(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def _execute(engine: AsyncEngine, *statements: tuple[str, dict[str, Any]]) -> None:
    async with engine.begin() as connection:
        for sql, params in statements:
            await connection.execute(text(sql), params)


async def test_0007_carries_tickets_messages_and_customers_across(engine: AsyncEngine) -> None:
    await upgrade(engine, "0006")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    await _execute(
        engine,
        ("INSERT INTO customers (id, email, uid, name, lang, created_at) VALUES "
         "(1, 'old@example.com', '123456', '', 'en', :now), "
         "(2, NULL, '654321', '', 'zh-CN', :now)", {"now": now}),
        ("INSERT INTO tickets (id, reference, customer_id, subject, description, category, "
         "status, priority, priority_rank, channel, created_at, updated_at) VALUES "
         "(1, 'KF-OLD1', 1, 's', 'd', 'other', 'open', 'normal', 1, 'web', :now, :now), "
         "(2, 'KF-OLD2', 2, 's', 'd', 'other', 'open', 'normal', 1, 'api', :now, :now)",
         {"now": now}),
        ("INSERT INTO ticket_messages (ticket_id, author_type, author_name, body, internal, "
         "created_at) VALUES (1, 'customer', 'c', 'help', false, :now), "
         "(1, 'agent', 'a', 'note', true, :now), (1, 'agent', 'a', 'answer', false, :now), "
         "(2, 'customer', 'c', 'api help', false, :now)", {"now": now}),
    )
    await upgrade(engine)
    async with engine.connect() as connection:
        messages = (await connection.execute(text(
            "SELECT body, direction, channel FROM ticket_messages ORDER BY id"))).all()
        tickets = (await connection.execute(text(
            "SELECT channel, identity_kind, identity_value FROM tickets ORDER BY id"))).all()
        identities = (await connection.execute(text(
            "SELECT customer_id, kind, value FROM contact_identities ORDER BY customer_id, kind"
        ))).all()
    assert [tuple(m) for m in messages] == [
        ("help", "in", "portal"), ("note", "internal", "portal"), ("answer", "out", "portal"),
        ("api help", "in", "api")]
    assert [tuple(t) for t in tickets] == [("portal", "email", "old@example.com"),
                                          ("api", "uid", "654321")]
    assert [tuple(i) for i in identities] == [
        (1, "email", "old@example.com"), (1, "uid", "123456"), (2, "uid", "654321")]
