"""Events wait for the real commit: a released SAVEPOINT publishes nothing (its
transaction may still roll back), and a rolled-back one drops only its own events."""

from pathlib import Path

from sqlalchemy import text

from kefu.core import events
from kefu.core.db import make_engine, make_session_factory


async def test_savepoints_neither_publish_early_nor_drop_the_outer_events(tmp_path: Path
                                                                            ) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    heard: list[int] = []

    def listen(item: events.Event) -> None:
        heard.append(item.data["n"])

    events.subscribe("test.savepoint", listen)
    try:
        async with make_session_factory(engine)() as db:
            await db.execute(text("select 1"))
            events.emit(db, "test.savepoint", n=1)
            async with db.begin_nested():
                events.emit(db, "test.savepoint", n=2)
            assert heard == []  # released, not committed
            await db.rollback()
        assert heard == []  # the transaction rolled back: nothing happened
        async with make_session_factory(engine)() as db:
            await db.execute(text("select 1"))
            events.emit(db, "test.savepoint", n=5)
            try:
                async with db.begin_nested():
                    events.emit(db, "test.savepoint", n=6)
                    raise RuntimeError("rolled back to the savepoint")
            except RuntimeError:
                pass
            async with db.begin_nested():
                events.emit(db, "test.savepoint", n=7)
            await db.commit()
        assert heard == [5, 7]
    finally:
        events.unsubscribe("test.savepoint", listen)
        await engine.dispose()
