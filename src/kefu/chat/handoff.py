"""The handover from the bot to people: one server-enforced transition, bot → queue.

`UPDATE chats SET owner = 'queue' … WHERE owner = 'bot'` either moves the chat or finds
it already moved; from then on the bot cannot post (`kefu.chat.posting`). The agent who
takes it gets a summary: the problem type, what the customer asked, what the bot offered.
Outside the team's hours nothing is queued: the customer is told the hours and offered
to leave a message.
"""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Team
from kefu.chat import frames
from kefu.chat.hours import is_open
from kefu.chat.models import Chat, Owner
from kefu.chat.posting import SYSTEM, announce, post
from kefu.chat.routing import announce_queue, online_agents
from kefu.chat.service import TYPE_TITLES, reveal_to_agents, ticket_of
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.i18n import translate
from kefu.tickets.models import PRIORITY_RANK, Direction, Priority, Status, TicketMessage

SECURITY_TEAM = "security"


async def team_hours(db: AsyncSession, team_id: int | None) -> str | None:
    if team_id is None:
        return None
    return (await db.execute(select(Team.hours).where(Team.id == team_id))).scalar_one_or_none()


async def hand_over(db: AsyncSession, chat: Chat, *, reason: str, urgent: bool = False,
                    team_slug: str | None = None) -> bool:
    """Move a bot-owned chat to its team's queue; False when the bot no longer owns it
    or the team is closed now (then the customer is offered to leave a message)."""
    team_id = chat.team_id
    if team_slug is not None:
        team_id = (await db.execute(select(Team.id).where(Team.slug == team_slug))
                   ).scalar_one_or_none() or team_id
    hours = await team_hours(db, team_id)
    if not urgent and not is_open(hours, utcnow()):
        await _closed(db, chat, hours)
        return False
    now = utcnow()
    moved = await db.execute(
        update(Chat).where(Chat.ticket_id == chat.ticket_id, Chat.owner == Owner.BOT)
        .values(owner=Owner.QUEUE, queued_at=now, handoff_reason=reason, team_id=team_id,
                urgent=urgent, updated_at=now)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await db.refresh(chat)
    ticket = await ticket_of(db, chat)
    ticket.team_id, ticket.status, ticket.updated_at = team_id, Status.NEW, now
    if urgent:
        ticket.priority, ticket.priority_rank = Priority.URGENT, PRIORITY_RANK[Priority.URGENT]
    reveal_to_agents(db, ticket)
    record(db, actor=("system", None), action="chat.handed_over",
           target=("ticket", ticket.reference), detail={"reason": reason, "urgent": urgent})
    await post(db, chat, SYSTEM, await summary(db, chat), direction=Direction.INTERNAL)
    notice = translate(chat.lang, "I'm connecting you with a human agent. Please stay in "
                       "this chat; your place in the queue is shown above.")
    if await online_agents(db, team_id) == 0:
        notice = translate(chat.lang, "I'm connecting you with a human agent. Nobody is free "
                           "right now: you can wait in the queue or leave a message and we "
                           "will reply by email.")
    await post(db, chat, SYSTEM, notice, direction=Direction.OUT)
    announce(db, frames.CHAT_STATE, chat, extra_keys=(frames.team_key(team_id),),
             state=frames.chat_frame(chat, reference=ticket.reference))
    await announce_queue(db, team_id)
    return True


async def _closed(db: AsyncSession, chat: Chat, hours: str | None) -> None:
    text = translate(chat.lang, "Our agents for this topic are available %(hours)s. Please "
                     "leave a message and we will reply by email.") % {"hours": hours or ""}
    await post(db, chat, SYSTEM, text, direction=Direction.OUT,
               meta={"leave_message": True}, only_if=Owner.BOT)


async def summary(db: AsyncSession, chat: Chat) -> str:
    """What the agent reads first: the problem type, the questions, the articles."""
    rows = (await db.execute(
        select(TicketMessage.author_type, TicketMessage.body, TicketMessage.meta)
        .where(TicketMessage.ticket_id == chat.ticket_id, TicketMessage.seq.is_not(None))
        .order_by(TicketMessage.seq))).all()
    questions = [body for author, body, _ in rows if author == "customer"]
    offered = [str(article.get("title", "")) for author, _, meta in rows
               if author == "bot" and meta for article in meta.get("articles", [])]
    lines = [f"Chat handed over ({chat.handoff_reason}). "
             f"Problem type: {TYPE_TITLES.get(chat.problem_type, chat.problem_type)}"
             + (f"; verified UID {chat.verified_uid}" if chat.verified_uid else "") + ".",
             "Asked:", *([f"- {q[:300]}" for q in questions[-10:]] or ["- (nothing yet)"]),
             "Articles offered:", *([f"- {t}" for t in offered] or ["- (none)"])]
    return "\n".join(lines)
