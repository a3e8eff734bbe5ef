"""Agents work tickets in the console: views, reply, note, assign, priority, status, search."""

import secrets

import httpx

from conftest import Desk, agent_client, customer_client, make_agent, reference_from, submit_ticket
from kefu.accounts.models import Role


async def test_agent_reply_and_internal_note(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    await agent.post(f"/console/tickets/{reference}/reply",
                     data={"body": "We are checking the chain.", "internal": ""})
    await agent.post(f"/console/tickets/{reference}/reply",
                     data={"body": "Looks like a wrong network", "internal": "1"})
    agent_view = (await agent.get(f"/console/tickets/{reference}")).text
    assert "We are checking the chain." in agent_view
    assert "Looks like a wrong network" in agent_view and "Internal note" in agent_view
    customer_view = (await customer.get(f"/portal/tickets/{reference}")).text
    assert "We are checking the chain." in customer_view
    assert "Looks like a wrong network" not in customer_view
    assert 'class="status open"' in agent_view  # first public reply moves new → open


async def test_status_workflow_refuses_impossible_transitions(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    closed = await agent.post(f"/console/tickets/{reference}/update", data={"status": "closed"})
    assert closed.status_code == 303
    reopen = await agent.post(f"/console/tickets/{reference}/update", data={"status": "open"})
    assert reopen.status_code == 422
    assert "cannot go from closed to open" in reopen.text
    reply = await customer.post(f"/portal/tickets/{reference}/reply", data={"body": "hello?"})
    assert reply.status_code == 422


async def _listed(agent: httpx.AsyncClient, view: str, reference: str) -> bool:
    # Narrowed to the reference (views list oldest first, and other tests fill them); a
    # link to the ticket, since the search box echoes the reference.
    page = await agent.get("/console", params={"view": view, "q": reference})
    return f'href="/console/tickets/{reference}"' in page.text


async def test_views_assignment_and_priority(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer, subject="Need API help"))
    agent = await agent_client(desk)
    assert await _listed(agent, "team_unassigned", reference)
    me = agent.headers["x-agent-email"]
    await agent.post(f"/console/tickets/{reference}/update",
                     data={"assignee_email": me, "priority": "urgent", "team": "general"})
    assert await _listed(agent, "mine", reference)
    assert not await _listed(agent, "team_unassigned", reference)
    assert await _listed(agent, "by_priority", reference)
    await agent.post(f"/console/tickets/{reference}/update", data={"status": "pending_customer"})
    assert await _listed(agent, "pending_customer", reference)


async def test_reassigning_to_another_team_hides_it_from_a_plain_agent(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    moved = await agent.post(f"/console/tickets/{reference}/update",
                             data={"team": "compliance", "assignee_email": "-"})
    assert moved.status_code == 303
    hidden = await agent.get(f"/console/tickets/{reference}")
    assert hidden.status_code == 404
    compliance = await agent_client(desk, team="compliance")
    assert (await compliance.get(f"/console/tickets/{reference}")).status_code == 200


async def test_security_category_goes_to_security_team_urgent(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer, category="security",
                                                   subject="Account stolen"))
    security = await agent_client(desk, team="security")
    page = (await security.get("/console?view=by_priority")).text
    assert reference in page
    row = page.split(f'href="/console/tickets/{reference}"')[1].split("</tr>")[0]
    assert 'class="priority urgent"' in row
    general = await agent_client(desk)
    assert (await general.get(f"/console/tickets/{reference}")).status_code == 404


async def test_search_by_reference_email_uid_and_text(desk: Desk) -> None:
    email = f"search-{secrets.token_hex(3)}@example.com"
    customer = await customer_client(desk, email=email)
    reference = reference_from(await submit_ticket(
        customer, uid="99887766", description="Futures position liquidated unexpectedly"))
    agent = await agent_client(desk, role=Role.SUPERVISOR)
    for query in (reference, email.upper(), "99887766", "liquidated unexpectedly"):
        page = (await agent.get("/console", params={"view": "all", "q": query})).text
        assert reference in page, query
    nothing = (await agent.get("/console", params={"view": "all", "q": "%_%' OR 1=1 --"})).text
    assert reference not in nothing


async def test_deactivated_agent_is_locked_out_at_once(desk: Desk) -> None:
    admin = await agent_client(desk, role=Role.ADMIN)
    email = await make_agent(desk)
    victim = desk.client()
    await victim.post("/console/login", data={"email": email, "password":
                                              "correct horse battery staple"})
    assert (await victim.get("/console")).status_code == 200
    page = (await admin.get("/admin/agents")).text
    agent_id = page.split(email)[1].split('form="agent-', 1)[1].split('"')[0]
    await admin.post(f"/admin/agents/{agent_id}", data={"role": "agent", "team_id": "",
                                                        "active": "0"})
    locked = await victim.get("/console")
    assert locked.status_code == 303 and "/console/login" in locked.headers["location"]
    relogin = await victim.post("/console/login", data={"email": email, "password":
                                                        "correct horse battery staple"})
    assert relogin.status_code == 401


async def test_stolen_account_in_another_category_goes_to_security(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(
        customer, category="account", subject="账户被盗",
        description="有人登录了我的账户并提走了 USDT，不是我本人操作"))
    security = await agent_client(desk, team="security")
    page = await security.get(f"/console/tickets/{reference}")
    assert page.status_code == 200 and 'class="priority urgent"' in page.text
    owner_view = (await customer.get(f"/portal/tickets/{reference}")).text
    assert 'id="security-freeze"' in owner_view  # the self-service freeze is offered
