"""Login sessions for agents and customers, stored server-side by token hash."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent, AuthSession, PrincipalType
from kefu.accounts.tokens import digest, new_secret
from kefu.contacts.models import Customer
from kefu.core.clock import utcnow


@dataclass(frozen=True)
class Principal:
    kind: PrincipalType
    agent: Agent | None = None
    customer: Customer | None = None


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


async def resolve(*, db: AsyncSession, token: str, kind: PrincipalType) -> Principal | None:
    """The principal behind a session cookie, or None (expired, revoked, deactivated)."""
    session = await load_session(db=db, token=token)
    if session is None or session.pending_totp or session.principal_type != kind:
        return None
    if kind == PrincipalType.AGENT:
        agent = await db.get(Agent, session.principal_id)
        # A deactivated agent is locked out at once, whatever sessions they hold.
        return Principal(kind, agent=agent) if agent and agent.active else None
    customer = await db.get(Customer, session.principal_id)
    return Principal(kind, customer=customer) if customer else None


async def end_session(*, db: AsyncSession, token: str) -> None:
    await db.execute(delete(AuthSession).where(AuthSession.token_hash == digest(token)))


async def end_all_sessions(*, db: AsyncSession, kind: PrincipalType, principal_id: int) -> None:
    await db.execute(
        delete(AuthSession).where(
            AuthSession.principal_type == kind, AuthSession.principal_id == principal_id
        )
    )
