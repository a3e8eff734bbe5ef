"""Admins keep the official-channel registry at /admin/channels; everyone else is refused."""

import secrets

from conftest import Desk, agent_client, customer_client
from kefu.accounts.models import Role


async def test_admin_adds_lists_and_removes_a_channel(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    domain = f"kefu-{secrets.token_hex(3)}.example"
    added = await admin.post("/admin/channels", data={
        "kind": "web_domain", "value": f"https://WWW.{domain.upper()}/", "note": "Mirror"})
    assert added.status_code == 303
    page = (await admin.get("/admin/channels")).text
    assert domain in page and "Mirror" in page
    verdict = (await desk.client().get("/api/v1/verify", params={"value": domain})).json()
    assert verdict["verdict"] == "official" and verdict["channel"]["note"] == "Mirror"

    channel_id = page.split(domain)[0].rsplit('data-channel="', 1)[1].split('"')[0]
    removed = await admin.post(f"/admin/channels/{channel_id}/remove")
    assert removed.status_code == 303
    assert domain not in (await admin.get("/admin/channels")).text
    verdict = (await desk.client().get("/api/v1/verify", params={"value": domain})).json()
    assert verdict["verdict"] != "official"

    for action in ("security.channel_added", "security.channel_removed"):
        audit = (await admin.get("/admin/audit", params={"action": action})).text
        assert domain in audit, action


async def test_invalid_and_duplicate_entries_are_refused(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    wrong = await admin.post("/admin/channels", data={"kind": "phone", "value": "2345 6789"})
    assert wrong.status_code == 422 and "country code" in wrong.text
    bad_kind = await admin.post("/admin/channels", data={"kind": "fax", "value": "x.example"})
    assert bad_kind.status_code == 422
    handle = f"@Kefu{secrets.token_hex(3)}"
    first = await admin.post("/admin/channels", data={"kind": "telegram", "value": handle})
    assert first.status_code == 303
    again = await admin.post("/admin/channels", data={"kind": "telegram",
                                                      "value": handle.lower()})
    assert again.status_code == 409


async def test_only_admins_reach_the_registry(desk: Desk) -> None:
    agent = await agent_client(desk, role=Role.SUPERVISOR)
    assert (await agent.get("/admin/channels")).status_code == 403
    posted = await agent.post("/admin/channels", data={"kind": "web_domain",
                                                       "value": "evil-kefu.example"})
    assert posted.status_code == 403
    assert (await agent.post("/admin/channels/1/remove")).status_code == 403
    customer = await customer_client(desk)
    refused = await customer.get("/admin/channels")
    assert refused.status_code == 303 and "/console/login" in refused.headers["location"]
    anonymous = await desk.client().post("/admin/channels", data={"kind": "web_domain",
                                                                  "value": "evil.example"})
    assert anonymous.status_code == 303
    verdict = (await desk.client().get("/api/v1/verify",
                                       params={"value": "evil-kefu.example"})).json()
    assert verdict["verdict"] != "official"
