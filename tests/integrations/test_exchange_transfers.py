"""Deposit/withdrawal status: the adapter against the fake exchange over loopback HTTP,
and the agent's one-click lookup shown on the console and on the customer's portal."""

import contextlib
import random
from collections.abc import AsyncIterator

import pytest
from exchange_server import SECRET, exchange_settings, serve_fake

from conftest import Desk, agent_client, customer_client, reference_from, submit_ticket
from kefu.integrations.exchange import http as exchange_http
from kefu.integrations.exchange.base import ExchangeRejected, ExchangeUnavailable
from kefu.integrations.exchange.fake import FakeExchange, FakeTransfer
from kefu.integrations.exchange.http import HttpExchangeBackend

TXID = "0x" + random.Random(8).randbytes(32).hex()


def exchange() -> FakeExchange:
    fake = FakeExchange(SECRET)
    fake.add_transfer("deposit", FakeTransfer(
        "confirming", txid=TXID, confirmations=4, required_confirmations=12))
    fake.add_transfer("withdrawal", FakeTransfer(
        "on_hold", order_id="W2024120600042", on_hold=True, reason="risk_review"))
    return fake


async def test_status_by_txid_or_order_id_and_not_found() -> None:
    fake = exchange()
    async with serve_fake(fake) as url:
        backend = HttpExchangeBackend(url, SECRET, allow_loopback=True)
        deposit = await backend.deposit_status(txid=TXID.upper().replace("0X", "0x"))
        assert deposit.found and deposit.status == "confirming" and not deposit.credited
        assert (deposit.confirmations, deposit.required_confirmations) == (4, 12)
        held = await backend.withdrawal_status(order_id="W2024120600042")
        assert held.on_hold and held.reason == "risk_review" and held.direction == "withdrawal"
        missing = await backend.deposit_status(txid="ab" * 32)
        assert not missing.found and missing.status == "not_found"
        # A deposit's TxID is no withdrawal.
        assert not (await backend.withdrawal_status(txid=TXID)).found
    assert fake.bad_signatures == 0 and fake.lookups == 4


@pytest.mark.parametrize("arguments", [
    {}, {"txid": TXID, "order_id": "W1"}, {"txid": "0x12/../../accounts"},
    {"order_id": "a b"}, {"txid": "x" * 200},
])
async def test_bad_lookups_are_refused_before_any_request(arguments: dict[str, str]) -> None:
    fake = exchange()
    async with serve_fake(fake) as url:
        backend = HttpExchangeBackend(url, SECRET, allow_loopback=True)
        with pytest.raises(ExchangeRejected):
            await backend.deposit_status(**arguments)
    assert fake.lookups == 0


async def test_lookups_are_retried_then_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exchange_http, "LOOKUP_BACKOFF", 0.01)
    fake = exchange()
    async with serve_fake(fake) as url:
        backend = HttpExchangeBackend(url, SECRET, allow_loopback=True)
        fake.fail_next = 2  # two 503s, then the answer: a read is safe to repeat
        assert (await backend.deposit_status(txid=TXID)).status == "confirming"
        fake.fail_next = 3
        with pytest.raises(ExchangeUnavailable):
            await backend.deposit_status(txid=TXID)
    with pytest.raises(ExchangeUnavailable):  # the server is gone
        await HttpExchangeBackend(url, SECRET, allow_loopback=True, timeout=1
                                  ).deposit_status(txid=TXID)


@contextlib.asynccontextmanager
async def exchange_for(desk: Desk, fake: FakeExchange) -> AsyncIterator[None]:
    """The desk's app talks to `fake` over loopback while the block runs."""
    saved = desk.app.state.settings
    async with serve_fake(fake) as url:
        desk.app.state.settings = exchange_settings(desk, url)
        try:
            yield
        finally:
            desk.app.state.settings = saved


async def test_agent_checks_the_status_and_the_customer_sees_it(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(
        customer, subject="ETH deposit missing", txid="",
        description=f"My ETH deposit on ERC20 has not arrived: {TXID}"))
    agent = await agent_client(desk, team="deposits")
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert 'id="check-transfer"' in page and 'value="deposit" selected' in page
    fake = exchange()
    async with exchange_for(desk, fake):
        clicked = await agent.post(f"/console/tickets/{reference}/transfer-status",
                                   data={"lookup": f"txid:{TXID}", "direction": "deposit"})
    assert clicked.status_code == 303 and fake.lookups == 1
    page = (await agent.get(f"/console/tickets/{reference}")).text
    assert 'id="transfer-status"' in page and "Waiting for network confirmations" in page
    assert "Confirmations: 4 of 12" in page
    mine = (await customer.get(f"/portal/tickets/{reference}",
                               headers={"accept-language": "zh-CN"})).text
    assert 'id="transfer-status"' in mine and "等待区块确认" in mine and "确认数：4 / 12" in mine


async def test_lookup_failures_and_foreign_values_are_reported_not_stored(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(
        customer, subject="withdrawal stuck", txid="",
        description="my withdrawal order id W2024120600042 is stuck"))
    agent = await agent_client(desk, team="deposits")
    assert 'value="withdrawal" selected' in (await agent.get(f"/console/tickets/{reference}")
                                             ).text
    fake = exchange()
    fake.fail_next = 10
    async with exchange_for(desk, fake):
        failed = await agent.post(f"/console/tickets/{reference}/transfer-status",
                                  data={"lookup": "order_id:W2024120600042",
                                        "direction": "withdrawal"})
        probe = await agent.post(f"/console/tickets/{reference}/transfer-status",
                                 data={"lookup": "txid:" + "cd" * 32, "direction": "deposit"})
    assert "transfer_error=unavailable" in failed.headers["location"]
    assert "transfer_error=unknown" in probe.headers["location"]
    page = (await agent.get(failed.headers["location"])).text
    assert "The exchange did not answer" in page and 'id="transfer-status"' not in page
    other_team = await agent_client(desk, team="listing")
    hidden = await other_team.post(f"/console/tickets/{reference}/transfer-status",
                                   data={"lookup": "order_id:W2024120600042",
                                         "direction": "withdrawal"})
    assert hidden.status_code == 404
