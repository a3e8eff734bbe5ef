"""Transfer facts on tickets: stored on create (portal and API), shown to the agent with
their flags in both languages, searchable exactly, and extended by the customer's replies."""

import random

import httpx

from conftest import (
    Desk,
    agent_client,
    customer_client,
    make_token,
    reference_from,
    submit_ticket,
    unique_email,
)
from kefu.triage.chain.encoding import b58encode_check, to_checksum_address


def _values(seed: int) -> tuple[str, str, str]:
    rng = random.Random(seed)
    return (rng.randbytes(32).hex(), b58encode_check(b"\x41" + rng.randbytes(20)),
            to_checksum_address(rng.randbytes(20).hex()))


async def _found(agent: httpx.AsyncClient, query: str, reference: str) -> bool:
    page = await agent.get("/console", params={"view": "all", "q": query})
    return f'href="/console/tickets/{reference}"' in page.text


async def test_portal_ticket_facts_are_shown_flagged_and_searchable(desk: Desk) -> None:
    txid, tron, evm = _values(1)
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(
        customer, subject="USDT deposit missing", txid="",
        description=f"deposit not credited 0x{txid} on ERC20, I sent it to {tron}"))
    agent = await agent_client(desk, team="deposits")
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert 'id="ticket-facts"' in page and f"0x{txid}" in page and tron in page
    assert "network_mismatch" in page and "check for a deposit on the wrong network" in page
    zh = (await agent.get(f"/console/tickets/{reference}",
                          headers={"accept-language": "zh-CN"})).text
    assert "转账信息" in zh and "请检查是否充错了网络" in zh
    assert await _found(agent, f"0x{txid.upper()}", reference)  # hashes: any case
    assert await _found(agent, tron, reference)
    assert not await _found(agent, evm, reference)


async def test_a_reply_adds_facts_and_clears_a_flag(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(
        customer, subject="XRP deposit", txid="",
        description="I deposited 500 XRP an hour ago and it is not credited"))
    agent = await agent_client(desk, team="deposits")
    assert "needs a memo/tag" in (await agent.get(f"/console/tickets/{reference}")).text
    reply = await customer.post(f"/portal/tickets/{reference}/reply",
                                data={"body": "sorry, destination tag 77120031"})
    assert reply.status_code == 303
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert "needs a memo/tag" not in page and "77120031" in page
    assert await _found(agent, "77120031", reference)


async def test_api_ticket_facts_are_stored_and_searchable(desk: Desk) -> None:
    # On PostgreSQL this is the direct path: the facts are a statement of their own.
    txid, tron, _ = _values(2)
    api, _ = await make_token(desk)
    created = await api.post("/api/v1/tickets", json={
        "category": "deposit_withdrawal", "subject": "TRC20 withdrawal not received",
        "description": f"我的提现一直没到 {txid} 帮忙查一下，地址 {tron}",
        "contact_email": unique_email()})
    assert created.status_code == 201, created.text
    body = created.json()
    assert txid in body["description"] and body["team"] == "deposits"
    assert body["priority"] == "normal" and body["category"] == "deposit_withdrawal"
    for query in (txid, tron):
        listing = (await api.get("/api/v1/tickets", params={"q": query})).json()
        assert [t["reference"] for t in listing["items"]] == [body["reference"]]
    assert await _stored_facts(desk, body["reference"]) == {
        ("txid", txid), ("address", tron), ("network", "TRC20")}


async def _stored_facts(desk: Desk, reference: str) -> set[tuple[str, str]]:
    from sqlalchemy import select

    from kefu.tickets.models import Ticket
    from kefu.triage.models import TicketFact

    async with desk.app.state.session_factory() as db:
        rows = await db.execute(select(TicketFact.kind, TicketFact.value).join(
            Ticket, Ticket.id == TicketFact.ticket_id).where(Ticket.reference == reference))
        return {(kind, value) for kind, value in rows.all()}


async def test_facts_lost_after_the_ticket_committed_are_derived_again(desk: Desk) -> None:
    # The direct path writes the facts in a statement of their own; if it is lost, the
    # console still shows them, read again from the stored text.
    from sqlalchemy import delete, select

    from kefu.tickets.models import Ticket
    from kefu.triage.models import TicketFact

    txid, tron, _ = _values(3)
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(
        customer, subject="TRC20 deposit", txid="",
        description=f"TRC20 deposit missing, hash {txid}, from {tron}"))
    async with desk.app.state.session_factory() as db:
        ticket_id = (await db.execute(select(Ticket.id).where(Ticket.reference == reference))
                     ).scalar_one()
        kinds = set((await db.execute(select(TicketFact.kind).where(
            TicketFact.ticket_id == ticket_id))).scalars())
        assert {"txid", "address", "network"} <= kinds
        await db.execute(delete(TicketFact).where(TicketFact.ticket_id == ticket_id))
        await db.commit()
    page = (await (await agent_client(desk, team="deposits")).get(
        f"/console/tickets/{reference}")).text
    assert f'<code class="fact txid">{txid}</code>' in page
    assert f'<code class="fact address">{tron}</code>' in page
