"""Admins manage the widget's sites and the teams' chat hours; agents get their chat
console. What an admin sets is what the API then enforces."""

import time

from sqlalchemy import select

from conftest import Desk, agent_client
from kefu.accounts.models import Role, Team
from kefu.chat.sites import uid_signature


async def test_an_admin_adds_a_site_and_its_secret_signs_uids(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    key = f"site-{int(time.time() * 1000) % 10**9}"
    page = await admin.post("/admin/chat/sites", data={
        "key": key, "name": "Exchange web", "origins": "https://www.exchange.example/",
        "verified_only": "1"})
    assert page.status_code == 200
    secret = page.text.split('id="site-secret">')[1].split("<")[0]
    assert len(secret) == 64
    listing = await admin.get("/admin/chat")
    assert key in listing.text and secret not in listing.text  # shown once
    async with desk.client() as widget:
        origin = {"origin": "https://www.exchange.example"}
        refused = await widget.post("/chat/api/v1/visitors", json={"site": key}, headers=origin)
        assert refused.status_code == 403  # verified users only
        expires = int(time.time()) + 60
        ok = await widget.post("/chat/api/v1/visitors", headers=origin, json={
            "site": key, "uid": "777", "expires": expires,
            "signature": uid_signature(secret, "777", expires)})
        assert ok.status_code == 200 and ok.json()["verified"] is True
    bad = await admin.post("/admin/chat/sites", data={"key": key + "x", "origins": "javascript:x"})
    assert bad.status_code == 422 and "Not an origin" in bad.text
    await admin.aclose()


async def test_team_hours_are_checked_and_saved(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    async with desk.app.state.session_factory() as db:
        team = (await db.execute(select(Team).where(Team.slug == "compliance"))).scalar_one()
    wrong = await admin.post(f"/admin/chat/teams/{team.id}/hours", data={"hours": "9 to 5"})
    assert wrong.status_code == 422 and "mon-fri 09:00-18:00" in wrong.text
    saved = await admin.post(f"/admin/chat/teams/{team.id}/hours",
                             data={"hours": "mon-fri 09:00-18:00 +08:00"})
    assert saved.status_code == 303
    async with desk.app.state.session_factory() as db:
        again = await db.get(Team, team.id)
        assert again is not None and again.hours == "mon-fri 09:00-18:00 +08:00"
    await admin.post(f"/admin/chat/teams/{team.id}/hours", data={"hours": ""})  # 24/7 again
    agent = await agent_client(desk)
    assert (await agent.get("/admin/chat")).status_code == 403
    await admin.aclose()
    await agent.aclose()


async def test_an_agent_has_a_chat_console(desk: Desk) -> None:
    agent = await agent_client(desk)
    page = await agent.get("/console/chats")
    assert page.status_code == 200 and "console-chat.js" in page.text
    inbox = (await agent.get("/console/chats/inbox")).json()
    assert inbox["presence"] == "offline" and set(inbox["counts"]) == {"queued", "offered",
                                                                        "mine"}
    online = await agent.post("/console/chats/presence", json={"presence": "online",
                                                               "capacity": 4})
    assert online.status_code == 200 and online.json()["capacity"] == 4
    too_many = await agent.post("/console/chats/presence", json={"presence": "online",
                                                                 "capacity": 99})
    assert too_many.status_code == 422
    await agent.post("/console/chats/presence", json={"presence": "offline"})
    assert (await agent.get("/console/chats/999999/messages")).status_code == 404
    await agent.aclose()
