"""Agent and team administration, logins, TOTP and API tokens. The only writers here."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pyotp
from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import sessions
from kefu.accounts.models import (
    Agent,
    ApiToken,
    PrincipalType,
    Role,
    SiteSetting,
    Team,
    scopes_allow,
)
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.driver import Database, first
from kefu.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from kefu.core.passwords import hash_password, verify_password
from kefu.core.tokens import digest, new_secret

DEFAULT_TEAMS = (
    ("general", "General support", "综合客服"),
    ("deposits", "Deposits & withdrawals", "充提团队"),
    ("security", "Security", "安全团队"),
    ("compliance", "Compliance & KYC", "合规与身份认证"),
    ("api", "API & technical", "API 技术支持"),
    ("business", "Business", "商务合作"),
    ("listing", "Listing", "上币申请"),
)
API_SCOPES = ("tickets:read", "tickets:write")


async def ensure_default_teams(*, db: AsyncSession) -> None:
    existing = set((await db.execute(select(Team.slug))).scalars())
    for slug, name, name_zh in DEFAULT_TEAMS:
        if slug not in existing:
            db.add(Team(slug=slug, name=name, name_zh=name_zh))
    await db.flush()


async def list_teams(*, db: AsyncSession) -> list[Team]:
    return list((await db.execute(select(Team).order_by(Team.id))).scalars())


async def team_by_slug(*, db: AsyncSession, slug: str) -> Team:
    team = (await db.execute(select(Team).where(Team.slug == slug))).scalar_one_or_none()
    if team is None:
        raise NotFound()
    return team


async def agent_by_email(*, db: AsyncSession, email: str) -> Agent | None:
    query = select(Agent).where(func.lower(Agent.email) == email.strip().lower())
    return (await db.execute(query)).scalar_one_or_none()


async def create_agent(
    *,
    db: AsyncSession,
    actor: Agent | None,
    email: str,
    name: str,
    password: str,
    role: Role = Role.AGENT,
    team_id: int | None = None,
) -> Agent:
    agent = Agent(
        email=email.strip().lower(),
        name=name.strip()[:100],
        password_hash=hash_password(password),
        role=role,
        team_id=team_id,
        active=True,
        created_at=utcnow(),
    )
    db.add(agent)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict("An agent with this email already exists.") from exc
    record(db, actor=_actor(actor), action="agent.created", target=("agent", agent.id),
           detail={"role": role, "team_id": team_id})
    return agent


async def update_agent(
    *, db: AsyncSession, actor: Agent, agent: Agent, changes: dict[str, Any]
) -> Agent:
    """Role, team and active flag only; other keys were dropped by the schema."""
    if "role" in changes:
        agent.role = Role(changes["role"])
    if "team_id" in changes:
        agent.team_id = changes["team_id"]
    if "active" in changes:
        agent.active = bool(changes["active"])
        if not agent.active:
            await sessions.end_all_sessions(db=db, kind=PrincipalType.AGENT, principal_id=agent.id)
    record(db, actor=_actor(actor), action="agent.updated", target=("agent", agent.id),
           detail={"fields": sorted(changes)})
    return agent


async def authenticate_agent(*, db: AsyncSession, email: str, password: str) -> Agent:
    agent = await agent_by_email(db=db, email=email)
    # verify_password runs argon2 even for unknown emails, so timing reveals nothing.
    ok = verify_password(agent.password_hash if agent else None, password)
    if agent is None or not ok or not agent.active:
        raise Unauthorized("Invalid email or password.")
    return agent


def totp_required(agent: Agent, *, mandatory: bool) -> bool:
    return bool(agent.totp_secret) or mandatory


def verify_totp(agent: Agent, code: str) -> bool:
    if not agent.totp_secret:
        return False
    return pyotp.TOTP(agent.totp_secret).verify(code.strip().replace(" ", ""), valid_window=1)


def new_totp_secret() -> str:
    return pyotp.random_base32()


async def enable_totp(*, db: AsyncSession, agent: Agent, secret: str, code: str) -> None:
    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        raise InvalidInput("The code does not match. Check your authenticator's clock.")
    agent.totp_secret = secret
    record(db, actor=("agent", agent.id), action="agent.totp_enabled", target=("agent", agent.id))


async def change_agent_password(
    *, db: AsyncSession, agent: Agent, current: str, new: str
) -> None:
    if not verify_password(agent.password_hash, current):
        raise Unauthorized("Current password is wrong.")
    agent.password_hash = hash_password(new)
    await sessions.end_all_sessions(db=db, kind=PrincipalType.AGENT, principal_id=agent.id)
    record(db, actor=("agent", agent.id), action="agent.password_changed",
           target=("agent", agent.id))


async def create_api_token(
    *, db: AsyncSession, actor: Agent, name: str, scopes: list[str]
) -> tuple[ApiToken, str]:
    unknown = set(scopes) - set(API_SCOPES)
    if unknown or not scopes:
        raise InvalidInput(f"Scopes must be among {', '.join(API_SCOPES)}.")
    secret = new_secret("kefu_")
    token = ApiToken(
        name=name.strip()[:100] or "token",
        token_hash=digest(secret),
        prefix=secret[:12],
        scopes=sorted(set(scopes)),
        agent_id=actor.id,
        created_at=utcnow(),
    )
    db.add(token)
    await db.flush()
    record(db, actor=_actor(actor), action="api_token.created", target=("api_token", token.id),
           detail={"scopes": token.scopes})
    return token, secret


async def revoke_api_token(*, db: AsyncSession, actor: Agent, token_id: int) -> None:
    token = await db.get(ApiToken, token_id)
    if token is None:
        raise NotFound()
    token.revoked_at = utcnow()
    record(db, actor=_actor(actor), action="api_token.revoked", target=("api_token", token.id))


TOKENS, AGENTS = cast(Table, ApiToken.__table__), cast(Table, Agent.__table__)
# Built once, run with a bind parameter on every API call.
TOKEN_CHECK = (
    select(TOKENS.c.scopes, TOKENS.c.revoked_at, AGENTS.c.id, AGENTS.c.name, AGENTS.c.active)
    .join_from(TOKENS, AGENTS, TOKENS.c.agent_id == AGENTS.c.id)
    .where(TOKENS.c.token_hash == bindparam("token_hash")))


@dataclass(frozen=True)
class ApiCaller:
    """The agent an API token acts for, as far as a write needs to name them."""

    agent_id: int
    name: str


async def check_api_token(*, db: Database, secret: str, scope: str) -> ApiCaller:
    """One plain read of the token and its agent, on every API call and never cached:
    a revoked token or a deactivated agent is locked out at once (SECURITY.md)."""
    return api_caller(await first(db, TOKEN_CHECK, {"token_hash": digest(secret)}), scope)


def api_caller(row: Sequence[Any] | None, scope: str) -> ApiCaller:
    """The caller from TOKEN_CHECK's columns (None: no such token), or Unauthorized."""
    if row is None:
        raise Unauthorized("Invalid API token.")
    scopes, revoked_at, agent_id, name, active = row
    if revoked_at is not None or not active:
        raise Unauthorized("Invalid API token.")
    if not scopes_allow(scopes, scope):
        # A valid credential without the right: 403 (401 means "who are you?").
        raise Forbidden("This token lacks the scope for this call.")
    return ApiCaller(agent_id, name)


async def authenticate_api_token(*, db: AsyncSession, secret: str, scope: str) -> Agent:
    """The token's agent as a full row, for calls that check what the agent may see."""
    caller = await check_api_token(db=db, secret=secret, scope=scope)
    agent = await db.get(Agent, caller.agent_id)
    if agent is None:  # deleted between the two reads
        raise Unauthorized("Invalid API token.")
    return agent


def _actor(agent: Agent | None) -> tuple[str, int | None]:
    return ("agent", agent.id) if agent else ("system", None)


TOTP_MANDATORY = "agent_totp_required"


async def totp_mandatory(*, db: AsyncSession, default: bool) -> bool:
    row = await db.get(SiteSetting, TOTP_MANDATORY)
    return default or bool(row and row.value)


async def set_totp_mandatory(*, db: AsyncSession, actor: Agent, required: bool) -> None:
    row = await db.get(SiteSetting, TOTP_MANDATORY)
    if row is None:
        db.add(SiteSetting(key=TOTP_MANDATORY, value=required))
    else:
        row.value = required
    record(db, actor=_actor(actor), action="settings.totp_mandatory", detail={"value": required})


async def create_team(*, db: AsyncSession, actor: Agent, slug: str, name: str,
                      name_zh: str = "") -> Team:
    slug = slug.strip().lower()
    if not slug or len(slug) > 32 or not slug.replace("-", "").isalnum():
        raise InvalidInput("A team slug is 1-32 letters, digits or dashes.")
    team = Team(slug=slug, name=name.strip()[:100] or slug, name_zh=name_zh.strip()[:100])
    db.add(team)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict("A team with this slug already exists.") from exc
    record(db, actor=_actor(actor), action="team.created", target=("team", team.id),
           detail={"slug": slug})
    return team
