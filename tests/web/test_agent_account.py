"""Agents turn on 2FA themselves and change their password (which ends their sessions)."""

import pyotp

from conftest import PASSWORD, Desk, agent_client
from kefu.accounts.models import Role


async def test_agent_enables_totp_then_needs_it_to_log_in(desk: Desk) -> None:
    agent = await agent_client(desk)
    email = agent.headers["x-agent-email"]
    page = await agent.get("/console/account")
    secret = page.text.split('class="secret">')[1].split("<")[0]
    wrong = await agent.post("/console/account/totp", data={"code": "000000"})
    assert wrong.status_code == 422
    ok = await agent.post("/console/account/totp", data={"code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 303
    fresh = desk.client()
    step = await fresh.post("/console/login", data={"email": email, "password": PASSWORD})
    assert step.headers["location"] == "/console/login/totp"
    assert (await fresh.get("/console")).status_code == 303


async def test_password_change_ends_every_session(desk: Desk) -> None:
    agent = await agent_client(desk)
    email = agent.headers["x-agent-email"]
    other = desk.client()
    await other.post("/console/login", data={"email": email, "password": PASSWORD})
    bad = await agent.post("/console/account/password",
                           data={"current": "not my password", "new": "a new long password"})
    assert bad.status_code == 422
    done = await agent.post("/console/account/password",
                            data={"current": PASSWORD, "new": "a new long password"})
    assert done.status_code == 303
    assert (await agent.get("/console")).status_code == 303
    assert (await other.get("/console")).status_code == 303
    again = desk.client()
    login = await again.post("/console/login", data={"email": email,
                                                     "password": "a new long password"})
    assert login.headers["location"] == "/console"


async def test_admin_adds_a_team_and_audit_records_it(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    slug = f"vip-{desk.backend}"
    created = await admin.post("/admin/teams", data={"slug": slug, "name": "VIP desk",
                                                     "name_zh": "VIP 客服"})
    assert created.status_code == 303
    duplicate = await admin.post("/admin/teams", data={"slug": slug, "name": "again"})
    assert duplicate.status_code == 409
    audit = (await admin.get("/admin/audit", params={"action": "team.created"})).text
    assert slug in audit
