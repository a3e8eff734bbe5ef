"""Prebuilt Core statements run straight on PostgreSQL's driver, for the busiest writes.

An API ticket create is two short statements; through an `AsyncSession` each one cost
about 0.4 ms of CPU in SQLAlchemy's session, execution context and greenlet hops, more
than asyncpg (about 0.15 ms) and more than PostgreSQL spent running it (measured with
`kefu bench tickets`; see the README). Here the statement is still written in SQLAlchemy
Core against the models' tables and compiled once by SQLAlchemy's own asyncpg dialect,
so names, casts and column types stay in one place; what is skipped is the per-call
bookkeeping. The connection comes from the engine's pool.

There is no transaction around the statements: each one commits on its own, so each
must be complete by itself (one INSERT, or data-modifying CTEs in one statement).
Code that needs several statements to commit together uses a session.

`first`, `dialect_of` and `emit_after_commit` also take an `AsyncSession`, so a verb
written against them runs unchanged on both (SQLite has no direct path).
"""

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import Executable
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql.expression import ReturnsRows

from kefu.core import events
from kefu.core.db import dialect_name

Processor = Callable[[Any], Any] | None
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class DriverStatement:
    """One Core statement as asyncpg runs it: SQL text, argument order, value converters."""

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        if compiled.insert_prefetch or compiled.update_prefetch:
            # SQLAlchemy fills Python-side column defaults per execution; nothing here
            # would, and the row would get NULLs. Such statements must name every column.
            missing = [c.name for c in compiled.insert_prefetch + compiled.update_prefetch]
            raise ValueError(f"a direct statement must give these columns: {missing}")
        self.sql: str = compiled.string
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # Values the statement carries itself (a LIMIT 1, a CASE's 0 and 1); callers give
        # the rest.
        self._fixed: dict[str, Any] = {
            name: value for name, value in compiled.params.items()
            if not compiled.binds[name].required}
        # The conversions SQLAlchemy would apply (JSON to text, UTC datetimes checked).
        self._bind: tuple[Processor, ...] = tuple(
            _bind_processor(compiled.binds[name].type) for name in self._names)
        columns = statement.exported_columns if isinstance(statement, ReturnsRows) else ()
        self._result: tuple[Processor, ...] = tuple(
            column.type.dialect_impl(_DIALECT).result_processor(_DIALECT, None)
            for column in columns)

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        fixed = self._fixed
        values = (fixed[name] if name in fixed else params[name] for name in self._names)
        return [value if convert is None else convert(value)
                for convert, value in zip(self._bind, values, strict=True)]

    def row(self, record: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(value if convert is None else convert(value)
                     for convert, value in zip(self._result, record, strict=True))


def _bind_processor(type_: Any) -> Processor:
    processor: Processor = type_.dialect_impl(_DIALECT).bind_processor(_DIALECT)
    return processor


# Keyed by identity: callers pass module-level statements or ones cached by shape, which
# live as long as the process (each is kept here too, so its id is never reused).
_compiled: dict[int, tuple[Executable, DriverStatement]] = {}
_MAX_COMPILED = 256


def compiled(statement: Executable) -> DriverStatement:
    entry = _compiled.get(id(statement))
    if entry is None:
        if len(_compiled) >= _MAX_COMPILED:
            _compiled.clear()
        entry = _compiled[id(statement)] = (statement, DriverStatement(statement))
    return entry[1]


class Direct:
    """A pooled asyncpg connection outside any transaction (see the module's text)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self.interrupted = False  # a statement ended other than by its result or refusal

    async def first(self, statement: Executable, params: Mapping[str, Any]
                    ) -> tuple[Any, ...] | None:
        driver = compiled(statement)
        arguments = driver.arguments(params)
        try:
            record = await self._connection.fetchrow(driver.sql, *arguments)
        except asyncpg.PostgresError:
            raise  # the server refused it and the connection is ready for the next one
        except BaseException:
            self.interrupted = True  # lost, or cancelled half-way (a client gone)
            raise
        return None if record is None else driver.row(record)


@contextlib.asynccontextmanager
async def direct(engine: AsyncEngine) -> AsyncIterator[Direct]:
    if engine.dialect.name != "postgresql":
        raise ValueError("direct statements are for PostgreSQL (asyncpg) only")
    pooled = await engine.raw_connection()
    db = Direct(pooled.driver_connection)
    try:
        yield db
    finally:
        if db.interrupted:
            # Its state is unknown: closed rather than handed to the next request. An
            # error between statements (a refused token, say) leaves it idle and fine.
            pooled.invalidate()
        else:
            pooled.close()  # back to the pool; no transaction was opened: nothing to reset


Database = AsyncSession | Direct


async def first(db: Database, statement: Executable, params: Mapping[str, Any]
                ) -> tuple[Any, ...] | None:
    """The statement's first row (or None), on a session or directly on the driver."""
    if isinstance(db, Direct):
        return await db.first(statement, params)
    row = (await db.execute(statement, params)).first()
    return None if row is None else tuple(row)


def emit_after_commit(db: Database, item: events.Event) -> None:
    """On a session, deliver `item` once it commits; directly, now: it has committed."""
    if isinstance(db, Direct):
        events.publish(item)
    else:
        events.emit_event(db, item)  # kept whole: it may carry its feed row's id


def dialect_of(db: Database) -> str:
    return "postgresql" if isinstance(db, Direct) else dialect_name(db)
