"""The deposit journeys of issue 12, through the portal and the API, on both databases.

A deposit ticket with a 0x hash keeps the hash (stored, shown to the agent, searchable)
and goes to the deposit/withdrawal team at normal priority. A real private key in the
same message is still masked everywhere and the ticket escalated to security.
"""

import random

import httpx
from sqlalchemy import String, Text, select

from conftest import (
    Desk,
    agent_client,
    customer_client,
    make_token,
    reference_from,
    submit_ticket,
    unique_email,
)
from kefu.accounts.models import Role
from kefu.models import metadata
from kefu.security.guard import MASKS
from kefu.triage.chain.encoding import b58encode_check

rng = random.Random(12)


def _message() -> tuple[str, str, str]:
    txid = rng.randbytes(32).hex()
    address = b58encode_check(b"\x41" + rng.randbytes(20))
    return (f"deposit not credited 0x{txid} on ERC20, sent 250 USDT from {address}",
            f"0x{txid}", address)


async def _stored(desk: Desk) -> str:
    """Every string column of every table, as one blob."""
    parts: list[str] = []
    async with desk.app.state.session_factory() as db:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if columns:
                for row in (await db.execute(select(*columns))).all():
                    parts.extend(str(v) for v in row if v)
            json_columns = [c for c in table.columns if c.type.__class__.__name__ == "JSON"]
            if json_columns:
                parts.extend(str(r) for r in (await db.execute(select(*json_columns))).all())
    return "\n".join(parts)


async def _search(agent: httpx.AsyncClient, query: str) -> str:
    return (await agent.get("/console", params={"view": "all", "q": query})).text


async def test_portal_deposit_ticket_keeps_its_hash(desk: Desk) -> None:
    text, txid, address = _message()
    customer = await customer_client(desk)
    created = await submit_ticket(customer, subject="USDT deposit not credited",
                                  description=text, txid="")
    assert "masked=" not in created.headers["location"]
    reference = reference_from(created)
    mine = (await customer.get(f"/portal/tickets/{reference}")).text
    assert txid in mine and 'id="secret-warning"' not in mine
    agent = await agent_client(desk, team="deposits")
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert text in page and 'class="priority normal"' in page
    assert f'<code class="fact txid">{txid}</code>' in page
    for query in (txid, txid.upper(), address):
        assert f'href="/console/tickets/{reference}"' in await _search(agent, query)
    general = await agent_client(desk, team="general")
    assert (await general.get(f"/console/tickets/{reference}")).status_code == 404


async def test_portal_private_key_beside_the_hash_is_masked_and_escalated(desk: Desk) -> None:
    text, txid, _ = _message()
    key = rng.randbytes(32).hex()
    customer = await customer_client(desk)
    created = await submit_ticket(
        customer, subject="USDT deposit not credited", txid="",
        description=f"{text}\nsupport asked for my wallet, my private key is {key}")
    assert "masked=private_key" in created.headers["location"]
    reference = reference_from(created)
    security = await agent_client(desk, team="security")
    page = (await security.get(f"/console/tickets/{reference}")).text
    assert txid in page and key not in page and MASKS["private_key"] in page
    assert 'class="priority urgent"' in page
    assert (await (await agent_client(desk, team="deposits")).get(
        f"/console/tickets/{reference}")).status_code == 404
    stored = await _stored(desk)
    assert key not in stored and txid in stored
    assert f'href="/console/tickets/{reference}"' not in await _search(security, key)


async def test_api_deposit_ticket_and_a_key_beside_it(desk: Desk) -> None:
    # On PostgreSQL the API create is the direct path (one statement, then the facts).
    api, _ = await make_token(desk)
    text, txid, address = _message()
    created = await api.post("/api/v1/tickets", json={
        "category": "deposit_withdrawal", "subject": "deposit", "description": text,
        "contact_email": unique_email()})
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["description"] == text
    assert (ticket["team"], ticket["priority"], ticket["category"]) == (
        "deposits", "normal", "deposit_withdrawal")
    for query in (txid, address):
        found = (await api.get("/api/v1/tickets", params={"q": query})).json()["items"]
        assert [t["reference"] for t in found] == [ticket["reference"]]

    zh_txid = rng.randbytes(32).hex()
    key = "0x" + rng.randbytes(32).hex()
    escalated = (await api.post("/api/v1/tickets", json={
        "category": "deposit_withdrawal", "subject": "提现没到",
        "description": f"我的提现一直没到 {zh_txid} 帮忙查一下\n我的私钥是 {key}",
        "contact_email": unique_email()})).json()
    assert zh_txid in escalated["description"] and key not in escalated["description"]
    assert (escalated["team"], escalated["priority"], escalated["category"]) == (
        "security", "urgent", "security")
    assert key not in await _stored(desk)
    found = (await api.get("/api/v1/tickets", params={"q": zh_txid})).json()["items"]
    assert [t["reference"] for t in found] == [escalated["reference"]]


async def test_the_same_txid_from_the_same_customer_is_shown_as_a_duplicate(desk: Desk) -> None:
    text, txid, _address = _message()
    customer = await customer_client(desk)
    first = reference_from(await submit_ticket(customer, description=text))
    second = reference_from(await submit_ticket(customer, subject="Still waiting",
                                                description=f"Any news on my deposit {txid}?"))
    stranger = reference_from(await submit_ticket(await customer_client(desk),
                                                  description=text))
    agent = await agent_client(desk, role=Role.SUPERVISOR)
    page = (await agent.get(f"/console/tickets/{second}")).text
    assert 'id="same-transfer"' in page
    notice = page.split('id="same-transfer"')[1].split("</p>")[0]
    assert first in notice and stranger not in notice  # another customer's is not a duplicate
    alone = (await agent.get(f"/console/tickets/{stranger}")).text
    assert 'id="same-transfer"' not in alone
