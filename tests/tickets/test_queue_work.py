"""Assign to me, take the next ticket (urgent first, then oldest), and bulk changes."""

import asyncio
import secrets

import httpx

from conftest import Desk, agent_client, customer_client, reference_from, submit_ticket
from kefu.accounts.models import Role


async def _ticket(customer: httpx.AsyncClient, **fields: str) -> str:
    return reference_from(await submit_ticket(customer, **fields))


def _assignee_selected(page: str) -> str:
    select = page.split('name="assignee_id"')[1].split("</select>")[0]
    chosen = [o for o in select.split("<option") if " selected" in o.split(">")[0]]
    return chosen[0].split(">")[1].split("<")[0] if chosen else ""


async def test_assign_to_me(desk: Desk) -> None:
    reference = await _ticket(await customer_client(desk))
    agent = await agent_client(desk)
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert f'action="/console/tickets/{reference}/take"' in page
    taken = await agent.post(f"/console/tickets/{reference}/take")
    assert taken.status_code == 303
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert _assignee_selected(page) == "agent deposits"
    assert f'action="/console/tickets/{reference}/take"' not in page  # already mine


async def test_take_next_takes_urgent_first_then_oldest(desk: Desk) -> None:
    # Its own team, so other tests' tickets are not in this queue.
    team = f"q{secrets.token_hex(3)}"
    admin = await agent_client(desk, role=Role.ADMIN)
    assert (await admin.post("/admin/teams", data={"slug": team, "name": team})).status_code \
        in (200, 303)
    customer = await customer_client(desk)
    refs = [await _ticket(customer, subject=f"queue {i}") for i in range(3)]
    for reference in refs:
        await admin.post(f"/console/tickets/{reference}/update", data={"team": team})
    await admin.post(f"/console/tickets/{refs[2]}/update", data={"priority": "urgent"})
    one, two = await agent_client(desk, team=team), await agent_client(desk, team=team)
    # Both at once: each gets a different ticket, the urgent one first.
    first, second = await asyncio.gather(one.post("/console/take-next"),
                                         two.post("/console/take-next"))
    got = {first.headers["location"].rsplit("/", 1)[1],
           second.headers["location"].rsplit("/", 1)[1]}
    assert got == {refs[2], refs[0]}
    third = await one.post("/console/take-next")
    assert third.headers["location"].endswith(refs[1])
    empty = await two.post("/console/take-next")
    assert empty.headers["location"] == "/console?view=team_unassigned&notice=queue_empty"
    notice = await two.get(empty.headers["location"])
    assert "no unassigned tickets waiting" in notice.text


async def test_bulk_changes_the_selection_and_reports_what_it_could_not(desk: Desk) -> None:
    customer = await customer_client(desk)
    refs = [await _ticket(customer, subject=f"bulk {i}") for i in range(3)]
    agent = await agent_client(desk)
    await agent.post(f"/console/tickets/{refs[2]}/update", data={"status": "closed"})
    done = await agent.post("/console/bulk", data={
        "ref": [*refs, "KF-NOPE-NOPE-NOPE"], "priority": "high", "status": "pending_customer",
        "next": "/console?view=all"})
    assert done.status_code == 303
    location = done.headers["location"]
    assert location.startswith("/console?view=all&bulk_done=2")
    report = (await agent.get(location)).text
    assert "2 tickets changed." in report and refs[2] in report and "KF-NOPE-NOPE-NOPE" in report
    for reference in refs[:2]:
        page = (await agent.get(f"/console/tickets/{reference}")).text
        assert 'class="priority high"' in page and 'class="status pending_customer"' in page
    closed = (await agent.get(f"/console/tickets/{refs[2]}")).text
    assert 'class="priority high"' not in closed  # its change was undone as one
    assign = await agent.post("/console/bulk", data={"ref": refs[:2], "assignee_id": "-",
                                                     "team": "general"})
    assert "bulk_done=2" in assign.headers["location"]
    nonsense = await agent.post("/console/bulk", data={"ref": refs[:1], "priority": "asap"})
    assert "bulk_done=0" in nonsense.headers["location"]
    assert "https://" not in (await agent.post("/console/bulk", data={
        "ref": refs[:1], "next": "https://evil.example/"})).headers["location"]


async def test_the_inbox_lists_checkboxes_for_the_bulk_form(desk: Desk) -> None:
    reference = await _ticket(await customer_client(desk))
    agent = await agent_client(desk)
    page = (await agent.get("/console", params={"view": "all", "q": reference})).text
    assert f'name="ref" value="{reference}" form="bulk"' in page
    assert 'action="/console/take-next"' in page
    chinese = (await agent.get("/console", params={"lang": "zh-CN"})).text
    assert "领取下一个工单" in chinese and "对所选工单" in chinese


async def test_a_nul_in_the_inbox_search_is_no_server_error(desk: Desk) -> None:
    agent = await agent_client(desk)
    page = await agent.get("/console", params={"q": "KF\x00X"})
    assert page.status_code == 200
