"""Admins manage mailboxes at /admin/mailboxes, in both languages; agents cannot."""

import secrets

from conftest import Desk, agent_client
from kefu.accounts.models import Role


def _address() -> str:
    return f"support-{secrets.token_hex(3)}@exchange.example"


async def test_admin_adds_and_edits_a_mailbox(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    page = await admin.get("/admin/mailboxes")
    assert page.status_code == 200 and "Add a mailbox" in page.text
    team_id = page.text.split('name="team_id"><option value="')[1].split('"')[0]
    address = _address()
    made = await admin.post("/admin/mailboxes", data={
        "address": address.upper(), "name": "Exchange Support", "team_id": team_id,
        "category": "deposit_withdrawal", "priority": "high"})
    assert made.status_code == 303
    page = await admin.get("/admin/mailboxes")
    assert f"<code>{address}</code>" in page.text  # stored in lower case
    mailbox_id = page.text.split(f"<code>{address}</code>")[1].split('form="mailbox-')[1]
    mailbox_id = mailbox_id.split('"')[0]
    edited = await admin.post(f"/admin/mailboxes/{mailbox_id}", data={
        "name": "Support", "team_id": team_id, "category": "security", "priority": "urgent",
        "active": "0"})
    assert edited.status_code == 303
    row = (await admin.get("/admin/mailboxes")).text.split(f"<code>{address}</code>")[1]
    row = row.split("</tr>")[0]
    assert 'value="security" selected' in row and 'value="urgent" selected' in row
    assert 'value="0" selected' in row


async def test_bad_mailbox_input_is_a_clear_error(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    address = _address()
    fields = {"name": "", "team_id": "", "category": "other", "priority": "normal"}
    first = await admin.post("/admin/mailboxes", data={"address": address, **fields})
    assert first.status_code == 303
    again = await admin.post("/admin/mailboxes", data={"address": address, **fields})
    assert again.status_code == 409 and "already exists" in again.text
    bad = await admin.post("/admin/mailboxes", data={"address": "not an address", **fields})
    assert bad.status_code == 422 and "valid email" in bad.text
    odd = await admin.post("/admin/mailboxes", data={
        "address": _address(), **fields, "category": "<script>"})
    assert odd.status_code == 422 and "<script>" not in odd.text
    nul = await admin.post("/admin/mailboxes", data={"address": "a\x00b@x.example", **fields})
    assert nul.status_code == 422


async def test_mailbox_page_in_chinese_and_closed_to_agents(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    page = await admin.get("/admin/mailboxes", headers={"accept-language": "zh-CN"})
    assert "添加邮箱" in page.text and "邮箱" in page.text
    agent = await agent_client(desk)
    refused = await agent.get("/admin/mailboxes")
    assert refused.status_code in (403, 404)
    posted = await agent.post("/admin/mailboxes", data={
        "address": _address(), "category": "other", "priority": "normal"})
    assert posted.status_code in (403, 404)
