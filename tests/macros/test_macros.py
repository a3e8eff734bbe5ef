"""Canned responses: personal or per team, in both languages, with variables; found from
the reply box and, when sent, applying their status, priority and team changes."""

import re

import httpx
from sqlalchemy import select

from conftest import Desk, agent_client, customer_client, reference_from, submit_ticket
from kefu.accounts.models import Role
from kefu.core.audit import AuditEntry

MACRO = {
    "title": "Deposit found",
    "body_en": "Hello {customer_name}, your deposit for {ticket_reference} has arrived. "
               "{agent_name}",
    "body_zh": "{customer_name} 您好，工单 {ticket_reference} 的充值已到账。{agent_name}",
    "scope": "personal",
}


async def _create(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    return await client.post("/console/macros", data={**MACRO, **fields})


def _ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/console/macros/(\d+)"', page)}


async def _suggest(client: httpx.AsyncClient, reference: str, q: str) -> list[dict[str, object]]:
    answer = await client.get("/console/macros/suggest", params={"ticket": reference, "q": q})
    assert answer.status_code == 200, answer.text
    results: list[dict[str, object]] = answer.json()["results"]
    return results


async def test_a_personal_macro_fills_in_the_ticket_in_the_customers_language(
        desk: Desk) -> None:
    agent = await agent_client(desk)
    title = f"Deposit found {id(agent)}"
    assert (await _create(agent, title=title)).status_code == 303
    customer = await customer_client(desk, lang="zh-CN")
    reference = reference_from(await submit_ticket(customer))
    found = await _suggest(agent, reference, title.split()[-1])
    assert [m["title"] for m in found] == [title]
    assert found[0]["text"] == f"Trader 您好，工单 {reference} 的充值已到账。agent deposits"
    english = reference_from(await submit_ticket(await customer_client(desk)))
    text = (await _suggest(agent, english, title.split()[-1]))[0]["text"]
    assert text == f"Hello Trader, your deposit for {english} has arrived. agent deposits"
    # Personal: a colleague in the same team neither lists nor finds it.
    colleague = await agent_client(desk)
    assert await _suggest(colleague, reference, title.split()[-1]) == []
    assert title not in (await colleague.get("/console/macros")).text


async def test_team_macros_are_shared_within_the_team_only(desk: Desk) -> None:
    supervisor = await agent_client(desk, role=Role.SUPERVISOR, team="compliance")
    title = f"KYC docs {id(supervisor)}"
    made = await _create(supervisor, title=title, scope="team", team="deposits")
    assert made.status_code == 303, made.text
    member = await agent_client(desk)
    assert title in (await member.get("/console/macros")).text
    outsider = await agent_client(desk, team="compliance")
    assert title not in (await outsider.get("/console/macros")).text
    # A plain agent may not add one for another team.
    refused = await _create(member, title="x", scope="team", team="compliance")
    assert refused.status_code == 422 and "your own team" in refused.text


async def test_sending_a_reply_with_a_macro_applies_its_changes(desk: Desk) -> None:
    agent = await agent_client(desk)
    await _create(agent, title=f"Waiting {id(agent)}", set_status="pending_customer",
                  set_priority="high")
    macro_id = max(_ids((await agent.get("/console/macros")).text))
    reference = reference_from(await submit_ticket(await customer_client(desk)))
    sent = await agent.post(f"/console/tickets/{reference}/reply",
                            data={"body": "Please send the TxID.", "macro_id": str(macro_id)})
    assert sent.status_code == 303, sent.text
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert 'class="status pending_customer"' in page and 'class="priority high"' in page
    async with desk.app.state.session_factory() as db:
        actions = set((await db.execute(select(AuditEntry.action).where(
            AuditEntry.target_id == reference))).scalars())
    assert {"macro.applied", "ticket.status_changed", "ticket.priority_changed"} <= actions
    # Someone else's personal macro is invisible: the reply is refused, nothing applied.
    other = await agent_client(desk)
    refused = await other.post(f"/console/tickets/{reference}/reply",
                               data={"body": "hi", "macro_id": str(macro_id)})
    assert refused.status_code == 422


async def test_editing_deleting_and_refusing_bad_macros(desk: Desk) -> None:
    agent = await agent_client(desk)
    await _create(agent, title=f"Old {id(agent)}")
    macro_id = max(_ids((await agent.get("/console/macros")).text))
    edited = await agent.post(f"/console/macros/{macro_id}",
                              data={**MACRO, "title": f"New {id(agent)}"})
    assert edited.status_code == 303
    assert f"New {id(agent)}" in (await agent.get("/console/macros")).text
    other = await agent_client(desk)
    assert (await other.get(f"/console/macros/{macro_id}")).status_code == 404
    assert (await other.post(f"/console/macros/{macro_id}/delete")).status_code == 404
    assert (await agent.get("/console/macros/99999999999")).status_code == 404
    empty = await agent.post("/console/macros", data={"title": "empty", "scope": "personal"})
    assert empty.status_code == 422 and "at least one language" in empty.text
    chinese = await agent.post("/console/macros?lang=zh-CN",
                               data={"title": "empty", "scope": "personal"})
    assert "请至少用一种语言填写内容" in chinese.text
    unknown = await _create(agent, set_team="no-such-team")
    assert unknown.status_code == 422 and "Unknown team." in unknown.text
    assert (await agent.post(f"/console/macros/{macro_id}/delete")).status_code == 303
    assert macro_id not in _ids((await agent.get("/console/macros")).text)


async def test_nul_characters_are_refused_as_input_not_a_server_error(desk: Desk) -> None:
    agent = await agent_client(desk)
    refused = await _create(agent, title="nul\x00title")
    assert refused.status_code == 422 and "NUL" in refused.text
    refused = await _create(agent, team="gen\x00eral", scope="team")
    assert refused.status_code == 422
    reference = reference_from(await submit_ticket(await customer_client(desk)))
    assert await _suggest(agent, reference, "x\x00y") == []
