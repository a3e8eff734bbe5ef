"""Migrations run from inside the application (core.migrate)."""

from pathlib import Path

from sqlalchemy import inspect

from kefu.core.db import make_engine
from kefu.core.migrate import alembic_config, upgrade


def test_a_percent_in_the_database_url_survives_the_config() -> None:
    url = "postgresql+asyncpg://kefu:p%40ss%25word@db.internal/kefu"
    assert alembic_config(url).get_main_option("sqlalchemy.url") == url


async def test_a_database_whose_path_has_a_percent_upgrades(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'desk%41.db'}")
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert {"tickets", "customers", "jobs"} <= set(tables)
    finally:
        await engine.dispose()
