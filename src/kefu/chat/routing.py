"""Queues and assignment: which agent gets which chat, decided in the database.

Each team has a queue (`chats.owner = 'queue'`), served urgent first, then first come.
A queued chat is offered to the team's online agent who speaks its language, else to any
(none waits for a speaker who is not there); among them the one with the most spare
capacity, the longest idle on a tie. The offer counts against the agent's capacity
(`chat_agents.active`) until they accept, or until the offer lapses (30 s by default):
then the chat goes back to the queue for the next agent and the agent who let it lapse
is set away (they are evidently not there), as desks with auto-assignment commonly do.

Every change is a conditional UPDATE checked by its row count (the chat still queued and
not offered; the agent still online with room), so two processes or two coroutines can
never give one chat to two agents or an agent more chats than their capacity; on
PostgreSQL the candidates are read `FOR UPDATE SKIP LOCKED`, so concurrent dispatchers
take different rows instead of waiting on each other.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.chat import frames
from kefu.chat.models import Chat, ChatAgent, ChatWait, Owner, Presence
from kefu.chat.posting import announce
from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, InvalidInput

OFFER_SECONDS = 30
MAX_CAPACITY = 20
RECENT_WAITS = 20  # the moving average of waits looks at this many accepted chats
QUEUE_ORDER = (Chat.urgent.desc(), Chat.queued_at, Chat.ticket_id)


def _skip_locked(query: Select[Any], db: AsyncSession) -> Select[Any]:
    if db.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query  # SQLite serialises writers; the conditional UPDATEs keep it correct


async def chat_agent(db: AsyncSession, agent: Agent) -> ChatAgent:
    row = await db.get(ChatAgent, agent.id)
    if row is None:
        row = ChatAgent(agent_id=agent.id, presence=Presence.OFFLINE, capacity=3, active=0,
                        idle_since=utcnow(), languages=" ".join(LANGUAGES))
        db.add(row)
        await db.flush()
    return row


LANGUAGES = ("en", "zh-CN")


async def set_presence(db: AsyncSession, agent: Agent, presence: Presence,
                       capacity: int | None = None,
                       languages: list[str] | None = None) -> ChatAgent:
    """Online agents get chats; away and offline agents keep the chats they have, and
    the chats only offered to them go back to the queue."""
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(f"Capacity is 1 to {MAX_CAPACITY} chats.")
    if languages is not None and (not languages or set(languages) - set(LANGUAGES)):
        raise InvalidInput("Choose the languages you chat in: en, zh-CN.")
    row = await chat_agent(db, agent)
    row.presence = presence
    if capacity is not None:
        row.capacity = capacity
    if languages is not None:
        row.languages = " ".join(sorted(set(languages)))
    if presence != Presence.ONLINE:
        offered = (await db.execute(select(Chat).where(
            Chat.owner == Owner.QUEUE, Chat.offered_agent_id == agent.id))).scalars().all()
        for chat in offered:
            await _withdraw_offer(db, chat, agent.id)
    events.emit(db, frames.CHAT_STATE, keys=[frames.agent_key(agent.id)], presence=presence,
                capacity=row.capacity)
    return row


async def offer_next(db: AsyncSession, team_id: int | None) -> tuple[int, int] | None:
    """Offer the team's next queued chat to its best free agent: (chat, agent), or None
    when the queue is empty or nobody has room."""
    chat = (await db.execute(_skip_locked(
        select(Chat).where(Chat.owner == Owner.QUEUE, Chat.team_id == team_id,
                           Chat.offered_agent_id.is_(None))
        .order_by(*QUEUE_ORDER).limit(1), db))).scalar_one_or_none()
    if chat is None:
        return None
    free = (ChatAgent.capacity - ChatAgent.active)
    speaks = case((ChatAgent.languages.contains(chat.lang), 0), else_=1)
    candidate = (await db.execute(_skip_locked(
        select(ChatAgent).join(Agent, Agent.id == ChatAgent.agent_id)
        .where(Agent.team_id == team_id, Agent.active.is_(True),
               ChatAgent.presence == Presence.ONLINE, ChatAgent.active < ChatAgent.capacity)
        .order_by(speaks, free.desc(), ChatAgent.idle_since, ChatAgent.agent_id).limit(1), db)
    )).scalar_one_or_none()
    if candidate is None:
        return None
    if not await offer_to(db, chat, candidate.agent_id):
        return None
    return chat.ticket_id, candidate.agent_id


async def offer_to(db: AsyncSession, chat: Chat, agent_id: int) -> bool:
    """Offer a queued chat to one agent (a transfer): False when they have no room."""
    if not await _take_slot(db, agent_id):
        return False
    taken = await db.execute(
        update(Chat).where(Chat.ticket_id == chat.ticket_id, Chat.owner == Owner.QUEUE,
                           Chat.offered_agent_id.is_(None))
        .values(offered_agent_id=agent_id, offered_at=utcnow())
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        await _free_slot(db, agent_id)
        return False
    await db.refresh(chat)
    announce(db, frames.CHAT_STATE, chat, customer=False, offered=True)
    return True


async def dispatch(db: AsyncSession, team_id: int | None, *, limit: int = 50) -> int:
    """Offer queued chats until the queue is empty or the team has no room."""
    offered = 0
    while offered < limit and await offer_next(db, team_id) is not None:
        offered += 1
    if offered:
        await announce_queue(db, team_id)
    return offered


async def _take_slot(db: AsyncSession, agent_id: int) -> bool:
    result = await db.execute(
        update(ChatAgent).where(ChatAgent.agent_id == agent_id,
                                ChatAgent.presence == Presence.ONLINE,
                                ChatAgent.active < ChatAgent.capacity)
        .values(active=ChatAgent.active + 1).execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def _free_slot(db: AsyncSession, agent_id: int) -> None:
    await db.execute(
        update(ChatAgent).where(ChatAgent.agent_id == agent_id, ChatAgent.active > 0)
        .values(active=ChatAgent.active - 1, idle_since=utcnow())
        .execution_options(synchronize_session=False))


async def free_agent_slot(db: AsyncSession, chat: Chat) -> None:
    """The chat no longer counts against its agent's (or offered agent's) capacity."""
    for agent_id in {chat.agent_id, chat.offered_agent_id} - {None}:
        assert agent_id is not None
        await _free_slot(db, agent_id)


async def _withdraw_offer(db: AsyncSession, chat: Chat, agent_id: int) -> None:
    result = await db.execute(
        update(Chat).where(Chat.ticket_id == chat.ticket_id, Chat.owner == Owner.QUEUE,
                           Chat.offered_agent_id == agent_id)
        .values(offered_agent_id=None, offered_at=None)
        .execution_options(synchronize_session=False))
    if result.rowcount == 1:  # type: ignore[attr-defined]
        await _free_slot(db, agent_id)
        events.emit(db, frames.CHAT_STATE, keys=[frames.agent_key(agent_id),
                                                 frames.team_key(chat.team_id)],
                    chat=chat.ticket_id, withdrawn=True)


async def expire_offers(db: AsyncSession, *, seconds: int = OFFER_SECONDS) -> set[int | None]:
    """Offers not accepted in time go back to the queue; their agents are set away.
    Returns the teams whose queues changed."""
    cutoff = utcnow() - timedelta(seconds=seconds)
    lapsed = (await db.execute(select(Chat).where(
        Chat.owner == Owner.QUEUE, Chat.offered_at < cutoff))).scalars().all()
    teams: set[int | None] = set()
    for chat in lapsed:
        agent_id = chat.offered_agent_id
        if agent_id is None:
            continue
        await _withdraw_offer(db, chat, agent_id)
        await db.execute(update(ChatAgent).where(ChatAgent.agent_id == agent_id)
                         .values(presence=Presence.AWAY)
                         .execution_options(synchronize_session=False))
        events.emit(db, frames.CHAT_STATE, keys=[frames.agent_key(agent_id)],
                    presence=Presence.AWAY, lapsed=chat.ticket_id)
        teams.add(chat.team_id)
    return teams


async def accept(db: AsyncSession, chat: Chat, agent: Agent) -> None:
    """The agent takes the chat: offered to them, or picked from their queue by hand
    (then it must fit their capacity)."""
    if chat.owner != Owner.QUEUE:
        raise Conflict("This chat is no longer waiting.")
    offered_to = chat.offered_agent_id
    if offered_to not in (None, agent.id):
        raise Conflict("This chat was offered to another agent.")
    row = await chat_agent(db, agent)
    if offered_to is None and not await _take_slot(db, agent.id):
        raise Conflict("You are at your chat capacity, or not online.")
    condition = (Chat.offered_agent_id.is_(None) if offered_to is None
                 else Chat.offered_agent_id == offered_to)
    now = utcnow()
    result = await db.execute(
        update(Chat).where(Chat.ticket_id == chat.ticket_id, Chat.owner == Owner.QUEUE,
                           condition)
        .values(owner=Owner.AGENT, agent_id=agent.id, offered_agent_id=None,
                offered_at=None, accepted_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Another agent took this chat.")
    await db.refresh(chat)
    await db.refresh(row)
    queued_at = chat.queued_at or now
    db.add(ChatWait(team_id=chat.team_id, waited_seconds=max(0, int(
        (now - queued_at).total_seconds())), accepted_at=now))


@dataclass(frozen=True)
class QueueSpot:
    position: int  # 1 = next
    wait_seconds: int | None


async def queue_spots(db: AsyncSession, team_id: int | None) -> dict[int, QueueSpot]:
    """Every queued chat of the team with its position and estimated wait."""
    ids = (await db.execute(select(Chat.ticket_id).where(
        Chat.owner == Owner.QUEUE, Chat.team_id == team_id).order_by(*QUEUE_ORDER)
    )).scalars().all()
    per_slot = await seconds_per_slot(db, team_id)
    return {chat_id: QueueSpot(n, None if per_slot is None else round(n * per_slot))
            for n, chat_id in enumerate(ids, start=1)}


async def seconds_per_slot(db: AsyncSession, team_id: int | None) -> float | None:
    """How long one place in the queue takes to move up: the span of the team's recent
    accepted chats over their number (the rate agent slots free up), at most their
    average wait; None before any chat was accepted."""
    recent = (await db.execute(
        select(ChatWait.accepted_at, ChatWait.waited_seconds)
        .where(ChatWait.team_id == team_id)
        .order_by(ChatWait.accepted_at.desc()).limit(RECENT_WAITS))).all()
    if not recent:
        return None
    average_wait = float(sum(row.waited_seconds for row in recent)) / len(recent)
    if len(recent) < 2:
        return average_wait
    span: float = (recent[0].accepted_at - recent[-1].accepted_at).total_seconds()
    per_slot = span / (len(recent) - 1)
    return min(per_slot, average_wait) if average_wait > 0 else per_slot


async def announce_queue(db: AsyncSession, team_id: int | None) -> None:
    """Tell each queued customer their place and wait, and the team its queue."""
    spots = await queue_spots(db, team_id)
    keys = [frames.chat_key(chat_id) for chat_id in spots]
    events.emit(db, frames.CHAT_QUEUE, keys=[*keys, frames.team_key(team_id)],
                team=team_id, spots={str(chat_id): [spot.position, spot.wait_seconds]
                                     for chat_id, spot in spots.items()})


async def online_agents(db: AsyncSession, team_id: int | None) -> int:
    return int((await db.execute(
        select(func.count()).select_from(ChatAgent).join(Agent, Agent.id == ChatAgent.agent_id)
        .where(Agent.team_id == team_id, Agent.active.is_(True),
               ChatAgent.presence == Presence.ONLINE))).scalar_one())
