"""The agent's chat inbox: what waits in their team's queue, what is offered to them,
what they own."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.chat.models import Chat, Owner
from kefu.chat.routing import QUEUE_ORDER, chat_agent
from kefu.core.clock import utcnow
from kefu.tickets.models import Ticket, TicketMessage

MAX_ROWS = 200


async def inbox(db: AsyncSession, agent: Agent) -> dict[str, Any]:
    me = await chat_agent(db, agent)
    queued = await _rows(db, agent, Chat.owner == Owner.QUEUE, Chat.team_id == agent.team_id,
                         Chat.offered_agent_id.is_(None))
    offered = await _rows(db, agent, Chat.owner == Owner.QUEUE,
                          Chat.offered_agent_id == agent.id)
    mine = await _rows(db, agent, Chat.owner == Owner.AGENT, Chat.agent_id == agent.id)
    return {"presence": me.presence, "capacity": me.capacity, "active": me.active,
            "languages": me.languages.split(),
            "queued": queued, "offered": offered, "mine": mine,
            "counts": {"queued": len(queued), "offered": len(offered), "mine": len(mine)}}


async def _rows(db: AsyncSession, agent: Agent, *conditions: Any) -> list[dict[str, Any]]:
    last_text = (select(TicketMessage.body).where(TicketMessage.ticket_id == Chat.ticket_id,
                                                  TicketMessage.seq.is_not(None))
                 .order_by(TicketMessage.seq.desc()).limit(1).scalar_subquery())
    rows = (await db.execute(
        select(Chat, Ticket.reference, last_text).join(Ticket, Ticket.id == Chat.ticket_id)
        .where(*conditions).order_by(*QUEUE_ORDER).limit(MAX_ROWS))).all()
    now = utcnow()
    return [_row(chat, reference, text, agent, now) for chat, reference, text in rows]


def _row(chat: Chat, reference: str, text: str | None, agent: Agent,
         now: datetime) -> dict[str, Any]:
    since = chat.queued_at if chat.owner == Owner.QUEUE else chat.accepted_at
    return {"id": chat.ticket_id, "reference": reference, "owner": chat.owner,
            "problem_type": chat.problem_type, "lang": chat.lang, "urgent": chat.urgent,
            "waiting_seconds": int((now - since).total_seconds()) if since else 0,
            "verified_uid": chat.verified_uid,
            "offered_to_me": chat.offered_agent_id == agent.id,
            "last_text": (text or "")[:140]}
