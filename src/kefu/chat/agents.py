"""The agent's side of a chat: accept, reply, note, transfer, convert, resolve."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent, Team
from kefu.chat import frames, routing
from kefu.chat.models import Chat, Outcome, Owner
from kefu.chat.posting import SYSTEM, Author, announce, post
from kefu.chat.service import checked_client_id, clean_text, end_chat, ticket_of
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, Forbidden, NotFound
from kefu.core.i18n import translate
from kefu.security.content import check_agent_outbound
from kefu.tickets.models import ChannelType, Direction, Status, TicketMessage


def _must_own(chat: Chat, agent: Agent) -> None:
    if chat.owner != Owner.AGENT or chat.agent_id != agent.id:
        raise Forbidden("This chat is not yours: accept it first.")


async def accept(db: AsyncSession, chat: Chat, agent: Agent) -> None:
    await routing.accept(db, chat, agent)
    ticket = await ticket_of(db, chat)
    ticket.assignee_id, ticket.status, ticket.updated_at = agent.id, Status.OPEN, utcnow()
    record(db, actor=("agent", agent.id), action="chat.accepted",
           target=("ticket", ticket.reference))
    await post(db, chat, SYSTEM, translate(chat.lang, "%(name)s has joined the chat.")
               % {"name": agent.name}, direction=Direction.OUT)
    announce(db, frames.CHAT_STATE, chat, extra_keys=(frames.team_key(chat.team_id),),
             state=frames.chat_frame(chat, reference=ticket.reference, agent_name=agent.name))
    await routing.announce_queue(db, chat.team_id)


async def agent_message(db: AsyncSession, chat: Chat, agent: Agent, *, text: str,
                        client_id: str | None, internal: bool = False) -> TicketMessage:
    """A reply the customer sees at once, or a note only agents see. The outbound check
    refuses a reply that asks the customer for a secret."""
    _must_own(chat, agent)
    body = clean_text(text)
    external_id = (None if client_id is None
                   else f"{chat.ticket_id}:agent-{checked_client_id(client_id)}")
    if external_id is not None:
        stored = (await db.execute(select(TicketMessage).where(
            TicketMessage.channel == ChannelType.CHAT,
            TicketMessage.external_id == external_id))).scalar_one_or_none()
        if stored is not None:
            return stored
    if not internal:
        check_agent_outbound(db, body, agent_id=agent.id, where="chat")
    try:
        async with db.begin_nested():
            message = await post(
                db, chat, Author("agent", agent.id, agent.name), body, external_id=external_id,
                direction=Direction.INTERNAL if internal else Direction.OUT)
    except IntegrityError as exc:
        raise Conflict("That message was already sent.") from exc
    assert message is not None
    ticket = await ticket_of(db, chat)
    now = utcnow()
    ticket.updated_at = now
    if not internal:
        ticket.first_response_at = ticket.first_response_at or now
    return message


async def resolve(db: AsyncSession, chat: Chat, agent: Agent) -> None:
    _must_own(chat, agent)
    await end_chat(db, chat, outcome=Outcome.RESOLVED, by="agent")


async def convert(db: AsyncSession, chat: Chat, agent: Agent) -> str:
    """The chat needs investigation: it ends as a chat and goes on as the agent's open
    ticket; the customer is told the reference and follows it in My tickets or by email."""
    _must_own(chat, agent)
    ticket = await ticket_of(db, chat)
    await post(db, chat, SYSTEM, translate(
        chat.lang, "We need a little more time to look into this. We will continue by ticket "
        "%(ref)s and reply by email or in My tickets.") % {"ref": ticket.reference},
        direction=Direction.OUT)
    await end_chat(db, chat, outcome=Outcome.CONVERTED, by="agent")
    ticket.status = Status.OPEN
    return ticket.reference


async def transfer(db: AsyncSession, chat: Chat, agent: Agent, *, team_slug: str | None = None,
                   to_agent_id: int | None = None) -> None:
    """Back to a team's queue (that team's), or offered straight to one agent."""
    _must_own(chat, agent)
    ticket = await ticket_of(db, chat)
    target: Agent | None = None
    team_id = chat.team_id
    if to_agent_id is not None:
        target = await db.get(Agent, to_agent_id)
        if target is None or not target.active:
            raise NotFound("No such agent.")
        team_id = target.team_id
    elif team_slug is not None:
        team_id = (await db.execute(select(Team.id).where(Team.slug == team_slug))
                   ).scalar_one_or_none()
        if team_id is None:
            raise NotFound("No such team.")
    await routing.free_agent_slot(db, chat)
    now = utcnow()
    chat.owner, chat.agent_id, chat.team_id, chat.queued_at = Owner.QUEUE, None, team_id, now
    chat.offered_agent_id = chat.offered_at = None
    ticket.team_id, ticket.assignee_id, ticket.updated_at = team_id, None, now
    await db.flush()
    if target is not None and not await routing.offer_to(db, chat, target.id):
        raise Conflict("That agent is not online or has no room for another chat.")
    record(db, actor=("agent", agent.id), action="chat.transferred",
           target=("ticket", ticket.reference),
           detail={"team_id": team_id, "agent_id": to_agent_id})
    await post(db, chat, SYSTEM, f"Transferred by {agent.name}.", direction=Direction.INTERNAL,
               extra_keys=(frames.agent_key(agent.id),))
    await post(db, chat, SYSTEM, translate(chat.lang, "You are being transferred to a "
                                           "colleague who can help. Please stay in this chat."),
               direction=Direction.OUT)
    announce(db, frames.CHAT_STATE, chat, extra_keys=(frames.team_key(team_id),
                                                      frames.agent_key(agent.id)),
             state=frames.chat_frame(chat, reference=ticket.reference))
    await routing.announce_queue(db, team_id)
