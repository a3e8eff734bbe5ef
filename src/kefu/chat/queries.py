"""Reading chats for clients: the CHAT frame with its queue place, and the messages a
client missed (every numbered message after the last one it saw)."""

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.chat import frames
from kefu.chat.handoff import team_hours
from kefu.chat.hours import is_open
from kefu.chat.models import Chat, Owner
from kefu.chat.routing import online_agents, queue_spots
from kefu.core.clock import utcnow
from kefu.tickets.models import Ticket, TicketMessage

MAX_REPLAY = 1000


def live_chat_tickets() -> Select[Any]:
    """The tickets of chats still going (the bot's, queued, with an agent): the chat
    queue routes them, so the ticket queue's "take next" leaves them alone."""
    return select(Chat.ticket_id).where(Chat.owner != Owner.ENDED)


async def chat_view(db: AsyncSession, chat: Chat) -> dict[str, Any]:
    reference = (await db.execute(select(Ticket.reference).where(
        Ticket.id == chat.ticket_id))).scalar_one()
    position = wait = None
    if chat.owner == Owner.QUEUE:
        spot = (await queue_spots(db, chat.team_id)).get(chat.ticket_id)
        if spot is not None:
            position, wait = spot.position, spot.wait_seconds
    agent_name = None
    if chat.owner == Owner.AGENT and chat.agent_id is not None:
        agent_name = (await db.execute(select(Agent.name).where(
            Agent.id == chat.agent_id))).scalar_one_or_none()
    view = frames.chat_frame(chat, reference=reference, position=position, wait_seconds=wait,
                             agent_name=agent_name)
    hours = await team_hours(db, chat.team_id)
    view["hours"] = hours
    view["available"] = is_open(hours, utcnow()) and (
        chat.owner != Owner.QUEUE or await online_agents(db, chat.team_id) > 0)
    return view


async def messages_after(db: AsyncSession, chat_id: int, after: int, *,
                         internal: bool = False) -> list[dict[str, Any]]:
    """The customer's view: numbered messages after `after`, in order. With `internal`
    (agents), the notes as well."""
    condition = (TicketMessage.seq > after) if not internal else (
        (TicketMessage.seq > after) | TicketMessage.seq.is_(None))
    rows = (await db.execute(
        select(TicketMessage).where(TicketMessage.ticket_id == chat_id, condition)
        .order_by(TicketMessage.id if internal else TicketMessage.seq).limit(MAX_REPLAY))
    ).scalars().all()
    return [frames.message_frame(m) for m in rows]
