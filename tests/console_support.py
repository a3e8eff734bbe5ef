"""Helpers for the console tests: the demo's own agents and an API token client."""

import httpx

from conftest import PASSWORD, Desk, agent_client
from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, Role
from kefu.web.bootstrap import DEMO_AGENTS


async def demo_agent(desk: Desk, index: int = 1) -> Agent:
    """A demo agent as `make run` seeds it (1: agent@kefu.local, 2: security@kefu.local),
    created once per desk."""
    email, name, role, team_slug = DEMO_AGENTS[index]
    async with desk.app.state.session_factory() as db:
        found = await accounts.agent_by_email(db=db, email=email)
        if found is None:
            team = await accounts.team_by_slug(db=db, slug=team_slug)
            found = await accounts.create_agent(db=db, actor=None, email=email, name=name,
                                                password=PASSWORD, role=role, team_id=team.id)
            await db.commit()
        return found


async def demo_agent_client(desk: Desk, index: int = 1) -> httpx.AsyncClient:
    agent = await demo_agent(desk, index)
    client = desk.client()
    response = await client.post("/console/login",
                                 data={"email": agent.email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return client


async def api_client(desk: Desk, scopes: tuple[str, ...] = ("tickets:read", "tickets:write"),
                     role: Role = Role.ADMIN) -> httpx.AsyncClient:
    admin = await agent_client(desk, role=role)
    page = await admin.post("/admin/tokens", data={"name": "crm", "scopes": list(scopes)})
    secret = page.text.split('id="new-token">')[1].split("<")[0]
    api = desk.client()
    api.headers["authorization"] = f"Bearer {secret}"
    return api
