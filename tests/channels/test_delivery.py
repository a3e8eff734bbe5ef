"""Replies leave through the adapter of the channel the customer wrote by: the verb records
the message and queues `channel.deliver`; the job hands it to the adapter."""

import pytest
from sqlalchemy import select

from conftest import (
    Desk,
    agent_client,
    customer_client,
    reference_from,
    sso_customer_client,
    submit_ticket,
    unique_email,
)
from kefu.channels.registry import adapter_for, registered
from kefu.core import jobs
from kefu.core.errors import NotFound
from kefu.notifications.mailer import read_log
from kefu.tickets.models import ChannelType, Direction, TicketMessage


async def _deliveries(desk: Desk, status: str | None = None) -> list[jobs.Job]:
    async with desk.app.state.session_factory() as db:
        query = select(jobs.Job).where(jobs.Job.kind == "channel.deliver")
        if status:
            query = query.where(jobs.Job.status == status)
        return list((await db.execute(query.order_by(jobs.Job.id))).scalars())


async def _messages(desk: Desk, reference: str) -> list[TicketMessage]:
    from kefu.tickets.models import Ticket

    async with desk.app.state.session_factory() as db:
        query = (select(TicketMessage).join(Ticket, Ticket.id == TicketMessage.ticket_id)
                 .where(Ticket.reference == reference).order_by(TicketMessage.id))
        return list((await db.execute(query)).scalars())


async def test_a_reply_is_recorded_then_delivered_by_the_portal_adapter(desk: Desk) -> None:
    address = unique_email()
    customer = await customer_client(desk, email=address)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    before = len(await _deliveries(desk))
    await agent.post(f"/console/tickets/{reference}/reply", data={"body": "Credited now."})
    await agent.post(f"/console/tickets/{reference}/reply",
                     data={"body": "Checked the chain.", "internal": "1"})
    messages = await _messages(desk, reference)
    assert [(m.direction, m.channel) for m in messages] == [
        (Direction.IN, "portal"), (Direction.OUT, "portal"), (Direction.INTERNAL, "portal")]
    queued = (await _deliveries(desk))[before:]
    assert [j.payload for j in queued] == [{"message_id": messages[1].id}]  # no note
    await desk.run_jobs()
    mine = [m for m in read_log(desk.settings.mail_log_path) if m["to"] == address]
    replies = [m for m in mine if "New reply" in m["subject"]]
    assert len(replies) == 1 and "Credited now." in replies[0]["text"]
    assert "Checked the chain." not in "".join(m["text"] for m in mine)
    assert "never ask for your password" in replies[0]["text"]


async def test_a_customer_without_an_address_reads_the_reply_in_the_portal(desk: Desk) -> None:
    customer = await sso_customer_client(desk, uid="77001234")
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    await agent.post(f"/console/tickets/{reference}/reply", data={"body": "Look here."})
    await desk.run_jobs()
    done = [j for j in await _deliveries(desk, "done")]
    last = (await _messages(desk, reference))[-1]
    assert any(j.payload == {"message_id": last.id} for j in done)
    page = await customer.get(f"/portal/tickets/{reference}")
    assert "Look here." in page.text


async def test_a_channel_without_an_adapter_leaves_the_delivery_to_retry(desk: Desk) -> None:
    """The message stays recorded and the job is retried (then dead, for an admin)."""
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    await agent.post(f"/console/tickets/{reference}/reply", data={"body": "Over X."})
    last = (await _messages(desk, reference))[-1]
    async with desk.app.state.session_factory() as db:
        row = await db.get(TicketMessage, last.id)
        assert row is not None
        row.channel = "carrier-pigeon"
        await db.commit()
    await desk.run_jobs()
    job = next(j for j in await _deliveries(desk) if j.payload == {"message_id": last.id})
    assert job.status in ("queued", "dead") and job.attempts == 1
    assert "carrier-pigeon" in (job.last_error or "")


def test_every_registered_adapter_keeps_the_contract() -> None:
    adapters = registered()
    assert {ChannelType.PORTAL, ChannelType.API} <= set(adapters)
    for channel, adapter in adapters.items():
        assert adapter.type == channel and adapter_for(channel) is adapter
        assert isinstance(adapter.capabilities.threading, bool)
    with pytest.raises(NotFound):
        adapter_for("fax")
