"""Assignment names an agent by id (console) or by id or exact email (API). The demo's
agents live at @kefu.local, an internal domain no deliverability check would accept."""

from sqlalchemy import select

from conftest import Desk, agent_client, customer_client, reference_from, submit_ticket
from console_support import api_client, demo_agent
from kefu.accounts.models import Role
from kefu.core.audit import AuditEntry


async def _audit(desk: Desk, reference: str, action: str) -> list[AuditEntry]:
    async with desk.app.state.session_factory() as db:
        rows = await db.execute(select(AuditEntry).where(
            AuditEntry.target_id == reference, AuditEntry.action == action))
        return list(rows.scalars())


async def _new_ticket(desk: Desk) -> str:
    customer = await customer_client(desk)
    return reference_from(await submit_ticket(customer))


async def test_console_assigns_the_demo_agent_by_id(desk: Desk) -> None:
    demo = await demo_agent(desk)
    reference = await _new_ticket(desk)
    agent = await agent_client(desk)
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert f'<option value="{demo.id}"' in page and "Demo Agent" in page
    done = await agent.post(f"/console/tickets/{reference}/update",
                            data={"assignee_id": str(demo.id), "team": "deposits"})
    assert done.status_code == 303, done.text
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert f'<option value="{demo.id}" selected' in page
    unassigned = await agent.post(f"/console/tickets/{reference}/update",
                                  data={"assignee_id": "-", "team": "deposits"})
    assert unassigned.status_code == 303
    assert f'<option value="{demo.id}" selected' not in (
        await agent.get(f"/console/tickets/{reference}")).text


async def test_console_refuses_an_unknown_agent_id_with_a_clear_error(desk: Desk) -> None:
    reference = await _new_ticket(desk)
    agent = await agent_client(desk)
    refused = await agent.post(f"/console/tickets/{reference}/update",
                               data={"assignee_id": "987654"})
    assert refused.status_code == 422 and "Unknown agent." in refused.text
    chinese = await agent.post(f"/console/tickets/{reference}/update?lang=zh-CN",
                               data={"assignee_id": "987654"})
    assert "没有这位客服。" in chinese.text  # the error in the page's language
    bad = await agent.post(f"/console/tickets/{reference}/update", data={"assignee_id": "x"})
    assert bad.status_code == 422


async def test_api_assigns_by_id_or_by_the_exact_email_of_an_agent(desk: Desk) -> None:
    demo = await demo_agent(desk)
    security = await demo_agent(desk, 2)
    api = await api_client(desk)
    reference = await _new_ticket(desk)
    by_email = await api.patch(f"/api/v1/tickets/{reference}",
                               json={"assignee_email": "agent@kefu.local"})
    assert by_email.status_code == 200, by_email.text
    assert by_email.json()["assignee_id"] == demo.id
    assert by_email.json()["assignee_email"] == "agent@kefu.local"
    by_id = await api.patch(f"/api/v1/tickets/{reference}", json={"assignee_id": security.id})
    assert by_id.status_code == 200 and by_id.json()["assignee_email"] == "security@kefu.local"
    assert by_id.json()["team"] == "security"  # an assignee outside the team moves it
    # An address that merely looks like an agent's is not one: exact match only.
    for wrong in ("agent@kefu.loca", "gent@kefu.local", "nobody@kefu.local"):
        refused = await api.patch(f"/api/v1/tickets/{reference}", json={"assignee_email": wrong})
        assert refused.status_code == 422 and refused.json()["detail"] == "Unknown agent."
    mismatch = await api.patch(f"/api/v1/tickets/{reference}", json={
        "assignee_id": demo.id, "assignee_email": "security@kefu.local"})
    assert mismatch.status_code == 422


async def test_a_priority_only_change_writes_no_assignment(desk: Desk) -> None:
    reference = await _new_ticket(desk)
    agent = await agent_client(desk)
    # The console form sends every field: the team and "nobody" unchanged, a new priority.
    done = await agent.post(f"/console/tickets/{reference}/update", data={
        "status": "new", "priority": "high", "team": "deposits", "assignee_id": "-"})
    assert done.status_code == 303
    assert await _audit(desk, reference, "ticket.assigned") == []
    assert len(await _audit(desk, reference, "ticket.priority_changed")) == 1


async def test_the_audit_log_names_agents(desk: Desk) -> None:
    demo = await demo_agent(desk)
    reference = await _new_ticket(desk)
    admin = await agent_client(desk, role=Role.ADMIN)
    await admin.post(f"/console/tickets/{reference}/update", data={"assignee_id": str(demo.id)})
    log = (await admin.get("/admin/audit", params={"action": "ticket.assigned"})).text
    row = next(r for r in log.split("<tr>") if reference in r)
    assert "admin deposits" in row  # the acting admin, by name (make_agent's naming)
    assert "Demo Agent" in row
    assert "agent 1" not in log


async def test_a_nul_in_the_assignee_email_is_refused_as_input(desk: Desk) -> None:
    api = await api_client(desk)
    reference = await _new_ticket(desk)
    refused = await api.patch(f"/api/v1/tickets/{reference}",
                              json={"assignee_email": "agent\x00@kefu.local"})
    assert refused.status_code == 422
    assert (await api.patch(f"/api/v1/tickets/{reference}", json={"team": "gen\x00"})
            ).status_code == 422
