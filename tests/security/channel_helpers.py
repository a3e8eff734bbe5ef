"""Set-up shared by the registry and /verify tests."""

from conftest import Desk
from kefu.core.errors import Conflict
from kefu.security.channels import DEMO_CHANNELS, add_channel


async def ensure_demo_channels(desk: Desk) -> None:
    """Test set-up: the demo registry, whatever other tests added or removed before."""
    for kind, value, note in DEMO_CHANNELS:
        async with desk.app.state.session_factory() as db:
            try:
                await add_channel(db=db, actor=None, kind=kind, value=value, note=note)
                await db.commit()
            except Conflict:
                await db.rollback()
