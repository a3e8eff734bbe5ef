"""Login sessions for agents and customers, stored server-side by token hash.

Sessions name their principal by type and id only, so this package need not know customers:
contacts resolves a customer's session (kefu.contacts.sessions) and agents resolve here."""

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent, AuthSession, PrincipalType
from kefu.core.clock import utcnow
from kefu.core.tokens import digest, new_secret


async def start_session(
    *,
    db: AsyncSession,
    kind: PrincipalType,
    principal_id: int,
    hours: int,
    pending_totp: bool = False,
) -> str:
    """Return the cookie value; only its hash is stored."""
    token = new_secret()
    now = utcnow()
    db.add(
        AuthSession(
            token_hash=digest(token),
            principal_type=kind,
            principal_id=principal_id,
            pending_totp=pending_totp,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return token


async def load_session(*, db: AsyncSession, token: str) -> AuthSession | None:
    query = select(AuthSession).where(
        AuthSession.token_hash == digest(token), AuthSession.expires_at > utcnow()
    )
    return (await db.execute(query)).scalar_one_or_none()


async def principal_id(*, db: AsyncSession, token: str, kind: PrincipalType) -> int | None:
    """The id of the principal of that kind behind a session cookie, or None (expired,
    revoked, still owing a TOTP code, or a session of the other kind)."""
    session = await load_session(db=db, token=token)
    if session is None or session.pending_totp or session.principal_type != kind:
        return None
    return session.principal_id


async def resolve_agent(*, db: AsyncSession, token: str) -> Agent | None:
    """The agent behind a session cookie, or None (expired, revoked, deactivated)."""
    agent_id = await principal_id(db=db, token=token, kind=PrincipalType.AGENT)
    agent = await db.get(Agent, agent_id) if agent_id is not None else None
    # A deactivated agent is locked out at once, whatever sessions they hold.
    return agent if agent and agent.active else None


async def end_session(*, db: AsyncSession, token: str) -> None:
    await db.execute(delete(AuthSession).where(AuthSession.token_hash == digest(token)))


async def end_all_sessions(*, db: AsyncSession, kind: PrincipalType, principal_id: int) -> None:
    await db.execute(
        delete(AuthSession).where(
            AuthSession.principal_type == kind, AuthSession.principal_id == principal_id
        )
    )
