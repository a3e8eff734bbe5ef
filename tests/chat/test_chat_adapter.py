"""A reply written on the ticket page reaches the open chat through the chat adapter:
numbered like any chat line, once, even when the delivery job runs twice."""

from sqlalchemy import select

from chat_support import fresh_team, queue_chat, visitor_chat
from conftest import Desk, agent_client
from kefu.accounts.models import Role
from kefu.channels.delivery import deliver_message_job
from kefu.chat.queries import messages_after
from kefu.core import jobs
from kefu.tickets.models import Ticket, TicketMessage


async def test_a_ticket_page_reply_reaches_the_chat_once(desk: Desk) -> None:
    team = await fresh_team(desk)
    _, chat_id = await visitor_chat(desk)
    await queue_chat(desk, chat_id, team)
    async with desk.app.state.session_factory() as db:
        ticket = await db.get(Ticket, chat_id)
        assert ticket is not None
        reference = ticket.reference
    supervisor = await agent_client(desk, role=Role.SUPERVISOR)
    sent = await supervisor.post(f"/console/tickets/{reference}/reply",
                                 data={"body": "We are on it, from the ticket page."})
    assert sent.status_code in (200, 303), sent.text
    await desk.run_jobs()
    async with desk.app.state.session_factory() as db:
        message_id = (await db.execute(select(TicketMessage.id).where(
            TicketMessage.ticket_id == chat_id,
            TicketMessage.body == "We are on it, from the ticket page."))).scalar_one()
    # A second delivery (a retry after a crash) numbers nothing again.
    await deliver_message_job({"message_id": message_id},
                              jobs.JobContext(desk.settings, desk.app.state.session_factory))
    async with desk.app.state.session_factory() as db:
        replay = await messages_after(db, chat_id, 0)
    lines = [m for m in replay if m["text"] == "We are on it, from the ticket page."]
    assert len(lines) == 1 and lines[0]["seq"] == replay[-1]["seq"]
    await supervisor.aclose()
