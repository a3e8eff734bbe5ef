"""First start: migrate the database and seed teams and the demo accounts."""

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, Role
from kefu.channels.email.mailboxes import seed_demo_mailboxes
from kefu.chat.sites import ensure_demo_site
from kefu.core import migrate
from kefu.core.settings import Settings
from kefu.kb.folder import load_demo_if_empty
from kefu.security.channels import seed_demo_channels


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str


DEMO_AGENTS = (
    ("admin@kefu.local", "Demo Admin", Role.ADMIN, "general"),
    ("agent@kefu.local", "Demo Agent", Role.AGENT, "deposits"),  # the busiest queue
    ("security@kefu.local", "Demo Security Agent", Role.AGENT, "security"),
)


async def prepare(
    engine: AsyncEngine, factory: async_sessionmaker[AsyncSession], settings: Settings
) -> list[DemoLogin]:
    """Migrate, seed teams, and on an empty desk create demo agents. Idempotent."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate.upgrade(engine)
    async with factory() as db:
        await accounts.ensure_default_teams(db=db)
        logins: list[DemoLogin] = []
        if settings.seed_demo:
            logins = await _seed_demo_agents(db, settings.data_dir / "demo-logins.txt")
            await load_demo_if_empty(db=db)
            await seed_demo_channels(db=db)
            await seed_demo_mailboxes(db=db)
            await ensure_demo_site(db, settings.secret_key)
        await db.commit()
    return logins


async def _seed_demo_agents(db: AsyncSession, saved: Path) -> list[DemoLogin]:
    if (await db.execute(select(func.count(Agent.id)))).scalar_one() > 0:
        return _read_saved(saved)
    logins = []
    for email, name, role, team_slug in DEMO_AGENTS:
        team = await accounts.team_by_slug(db=db, slug=team_slug)
        password = secrets.token_urlsafe(12)
        await accounts.create_agent(db=db, actor=None, email=email, name=name,
                                    password=password, role=role, team_id=team.id)
        logins.append(DemoLogin(email, password, role))
    # Random passwords, kept readable only by the owner, so a demo desk is never "admin/admin".
    saved.write_text("".join(f"{x.email} {x.password} {x.role}\n" for x in logins))
    saved.chmod(0o600)
    return logins


def _read_saved(saved: Path) -> list[DemoLogin]:
    if not saved.exists():
        return []
    rows = [line.split() for line in saved.read_text().splitlines() if line.strip()]
    return [DemoLogin(*row[:3]) for row in rows if len(row) >= 3]
