"""Shared fixtures: a real database per backend (SQLite file, PostgreSQL), the app on it,
and HTTP clients for customers, agents and admins. Tests talk HTTP only."""

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from kefu.accounts import service as accounts
from kefu.accounts.models import Role
from kefu.bench import processes
from kefu.core import jobs
from kefu.core.settings import Settings
from kefu.web.app import create_app
from kefu.web.bootstrap import prepare

PG_ADMIN_DSN = os.environ.get("KEFU_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PASSWORD = "correct horse battery staple"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every server a test started (through `kefu.bench.processes`) must be gone by now."""
    left = processes.kill_leftovers()
    if left:  # a test or fixture lost track of one: killed now, and the run fails
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nFAILED: processes started by tests were still running: groups {left}")


@dataclass
class Desk:
    """One running Kefu on one database backend."""

    backend: str
    app: FastAPI
    settings: Settings

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://kefu.test")

    async def run_jobs(self, settings: Settings | None = None) -> int:
        ctx = jobs.JobContext(settings or self.settings, self.app.state.session_factory)
        return await jobs.run_pending(ctx)


async def _postgres_url() -> tuple[str, Callable[[], Awaitable[None]]]:
    name = f"kefu_test_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", drop


def make_settings(tmp: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test", "data_dir": tmp, "database_url": database_url,
        "run_jobs_in_process": False, "seed_demo": False, "login_attempts_per_minute": 10_000,
        # Every test's widget visitor comes from one address; the limit has its own test.
        "chat_visitors_per_ip_hour": 100_000, "chat_chats_per_ip_hour": 100_000,
        "uid_signing_secret": "test-uid-secret", "max_upload_bytes": 1024 * 1024,
        "base_url": "http://kefu.test",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def desk(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
               ) -> AsyncIterator[Desk]:
    tmp = tmp_path_factory.mktemp(request.param)
    drop = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'kefu.db'}"
    else:
        url, drop = await _postgres_url()
    settings = make_settings(tmp, url)
    app = create_app(settings, run_migrations=False)
    await prepare(app.state.engine, app.state.session_factory, settings)
    yield Desk(request.param, app, settings)
    await app.state.engine.dispose()
    if drop is not None:
        await drop()


def tiny_train_csv(tmp_path: Path) -> Path:
    """A two-label Banking77-style train.csv (10 questions each), for eval plumbing tests."""
    words = ("login", "web", "app", "pc", "mac", "ios", "tablet", "email", "phone", "api")
    rows = [(f"how do i reset my {w} password", "pw") for w in words]
    rows += [(f"where is my {w} deposit", "dep") for w in words]
    train = tmp_path / "train.csv"
    train.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows), "utf-8")
    return train


def unique_email(prefix: str = "trader") -> str:
    return f"{prefix}-{secrets.token_hex(4)}@example.com"


async def customer_client(desk: Desk, *, email: str | None = None,
                          lang: str = "en") -> httpx.AsyncClient:
    client = desk.client()
    response = await client.post("/portal/signup", data={
        "email": email or unique_email(), "password": PASSWORD, "name": "Trader"},
        headers={"accept-language": lang})
    assert response.status_code == 303, response.text
    return client


async def sso_customer_client(desk: Desk, uid: str) -> httpx.AsyncClient:
    """A trader the exchange signed in: the UID is vouched for by its HMAC signature."""
    from kefu.contacts.service import uid_signature

    client = desk.client()
    sig = uid_signature(uid, desk.settings.uid_signing_secret)
    response = await client.get("/portal/sso", params={"uid": uid, "sig": sig})
    assert response.status_code == 303, response.text
    return client


async def make_agent(desk: Desk, *, role: Role = Role.AGENT, team: str = "deposits") -> str:
    email = unique_email(role.value)
    async with desk.app.state.session_factory() as db:
        team_row = await accounts.team_by_slug(db=db, slug=team)
        await accounts.create_agent(db=db, actor=None, email=email, name=f"{role.value} {team}",
                                    password=PASSWORD, role=role, team_id=team_row.id)
        await db.commit()
    return email


async def agent_client(desk: Desk, *, role: Role = Role.AGENT, team: str = "deposits"
                       ) -> httpx.AsyncClient:
    email = await make_agent(desk, role=role, team=team)
    client = desk.client()
    response = await client.post("/console/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/console"
    client.headers["x-agent-email"] = email  # for tests to know who they are; the app ignores it
    return client


TICKET_FORM = {
    "category": "deposit_withdrawal",
    "subject": "USDT deposit not credited",
    "description": "I sent 250 USDT over TRC20 two hours ago and it has not arrived.",
    "uid": "12345678",
    "txid": "a1b2c3d4e5f6",
    "platform": "ios",
    "platform_version": "5.2.1",
    "desired_outcome": "Credit my deposit",
}


async def submit_ticket(client: httpx.AsyncClient, files: list[tuple[str, tuple[str, bytes, str]]]
                        | None = None, **overrides: str) -> httpx.Response:
    return await client.post("/portal/tickets/new", data={**TICKET_FORM, **overrides},
                             files=files or None)


def reference_from(response: httpx.Response) -> str:
    location = response.headers["location"]
    return location.split("/portal/tickets/")[1].split("?")[0]


NEW_TICKET = {
    "category": "api",
    "subject": "Signature invalid on /api/v3/order",
    "description": "Every signed request returns 40102 since this morning.",
    "contact_email": "",
    "uid": "50012345",
}


async def make_token(desk: Desk, scopes: tuple[str, ...] = ("tickets:read", "tickets:write"),
                     role: Role = Role.ADMIN) -> tuple[httpx.AsyncClient, str]:
    admin = await agent_client(desk, role=role)
    page = await admin.post("/admin/tokens", data={"name": "crm", "scopes": list(scopes)})
    secret = page.text.split('id="new-token">')[1].split("<")[0]
    api = desk.client()
    api.headers["authorization"] = f"Bearer {secret}"
    return api, secret
