"""Loads the demo help centre into a desk once (tests share the session-scoped desks)."""

from conftest import Desk
from kefu.kb.folder import DEMO_DIR, import_folder
from kefu.kb.index import holder_for

_loaded: set[str] = set()


async def with_demo(desk: Desk) -> Desk:
    if desk.settings.database_url not in _loaded:
        async with desk.app.state.session_factory() as db:
            await import_folder(db=db, folder=DEMO_DIR)
            await db.commit()
        await holder_for(desk.settings.database_url).rebuild(desk.app.state.session_factory)
        await desk.run_jobs()
        _loaded.add(desk.settings.database_url)
    return desk
