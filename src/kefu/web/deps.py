"""Dependencies shared by every router, defined once as Annotated aliases."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import service as accounts
from kefu.accounts import sessions
from kefu.accounts.models import Agent
from kefu.contacts import sessions as customer_sessions
from kefu.contacts.models import Customer
from kefu.core.errors import Forbidden, Unauthorized
from kefu.core.i18n import negotiate, normalise
from kefu.core.settings import Settings as SettingsModel
from kefu.security.ratelimit import RateLimiter
from kefu.tickets.files import FileStore


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to the login page."""

    def __init__(self, login_path: str, next_path: str) -> None:
        self.login_path = login_path
        self.next_path = next_path


def cookie_name(settings: SettingsModel, base: str) -> str:
    # __Host- cookies need HTTPS; plain http://127.0.0.1 development uses the bare name.
    return f"__Host-{base}" if settings.cookie_secure else base


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def`
# dependency in a worker thread, a thread hand-off per request for a dictionary lookup.


async def get_settings(request: Request) -> SettingsModel:
    settings: SettingsModel = request.app.state.settings
    return settings


Settings = Annotated[SettingsModel, Depends(get_settings)]


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_db)]


async def get_store(request: Request) -> FileStore:
    store: FileStore = request.app.state.file_store
    return store


Store = Annotated[FileStore, Depends(get_store)]


async def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


Limiter = Annotated[RateLimiter, Depends(get_limiter)]


async def get_lang(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get("kefu_lang")
    if chosen:
        return normalise(chosen)
    return negotiate(request.headers.get("accept-language"))


Lang = Annotated[str, Depends(get_lang)]


def client_ip(request: Request) -> str:
    # X-Forwarded-For is ignored on purpose: a client can forge it. A deployment behind a
    # proxy runs uvicorn with --proxy-headers and a trusted --forwarded-allow-ips instead.
    return request.client.host if request.client else "unknown"


async def _agent_from_cookie(request: Request, db: AsyncSession, settings: SettingsModel) -> Agent:
    token = request.cookies.get(cookie_name(settings, "kefu_agent"))
    agent = await sessions.resolve_agent(db=db, token=token) if token else None
    if agent is None:
        raise LoginRequired("/console/login", request.url.path)
    return agent


async def get_current_agent(request: Request, db: DbSession, settings: Settings) -> Agent:
    return await _agent_from_cookie(request, db, settings)


CurrentAgent = Annotated[Agent, Depends(get_current_agent)]


async def get_admin(agent: CurrentAgent) -> Agent:
    if not agent.is_admin:
        raise Forbidden()
    return agent


AdminAgent = Annotated[Agent, Depends(get_admin)]


async def get_current_customer(request: Request, db: DbSession, settings: Settings) -> Customer:
    token = request.cookies.get(cookie_name(settings, "kefu_customer"))
    customer = await customer_sessions.resolve_customer(db=db, token=token) if token else None
    if customer is None:
        raise LoginRequired("/portal/login", request.url.path)
    return customer


CurrentCustomer = Annotated[Customer, Depends(get_current_customer)]


async def optional_customer(request: Request, db: DbSession, settings: Settings) -> Customer | None:
    try:
        return await get_current_customer(request, db, settings)
    except LoginRequired:
        return None


MaybeCustomer = Annotated[Customer | None, Depends(optional_customer)]


async def bearer_secret(request: Request) -> str:
    """The API token as sent, not yet checked (callers check it against its scope)."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
    return secret.strip()


BearerSecret = Annotated[str, Depends(bearer_secret)]


async def api_reader(secret: BearerSecret, db: DbSession) -> Agent:
    return await accounts.authenticate_api_token(db=db, secret=secret, scope="tickets:read")


async def api_writer(secret: BearerSecret, db: DbSession) -> Agent:
    return await accounts.authenticate_api_token(db=db, secret=secret, scope="tickets:write")


ApiReader = Annotated[Agent, Depends(api_reader)]
ApiWriter = Annotated[Agent, Depends(api_writer)]


async def rollback(db: AsyncSession, *keep: object) -> None:
    """Roll back, then reload `keep` (rollback expires every loaded row, and an expired row
    cannot lazy-load inside a template under asyncio)."""
    await db.rollback()
    for instance in keep:
        await db.refresh(instance)
