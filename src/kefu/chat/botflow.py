"""The bot's part of a conversation: what it answered, what the customer said of it.

The decision itself (answer, hand over, security, "is this official?") is
`kefu.chat.bot.bot_turn`, a read of the help centre; this module writes its outcome.
A bot answer is posted only while the bot owns the chat (`posting.post(only_if=BOT)`):
one computed while the customer was typing 转人工 is dropped, never shown after the
handover.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat.handoff import SECURITY_TEAM, hand_over
from kefu.chat.models import Chat, Outcome, Owner
from kefu.chat.posting import BOT, post
from kefu.chat.service import end_chat
from kefu.tickets.models import Direction, TicketMessage

MAX_REJECTIONS = 2  # "no, that did not help" twice in a row: a person takes over


class Link(Protocol):
    @property
    def title(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def article_id(self) -> int: ...


class Turn(Protocol):
    """What `kefu.chat.bot.bot_turn` decided."""

    @property
    def action(self) -> str: ...  # answer | handoff | security | official
    @property
    def text(self) -> str: ...
    @property
    def articles(self) -> Sequence[Link]: ...
    @property
    def reason(self) -> str | None: ...


async def offered_articles(db: AsyncSession, chat: Chat) -> set[int]:
    metas = (await db.execute(select(TicketMessage.meta).where(
        TicketMessage.ticket_id == chat.ticket_id, TicketMessage.author_type == "bot"))
    ).scalars().all()
    return {int(article["id"]) for meta in metas if meta
            for article in meta.get("articles", []) if "id" in article}


async def last_question(db: AsyncSession, chat: Chat) -> str | None:
    return (await db.execute(
        select(TicketMessage.body).where(TicketMessage.ticket_id == chat.ticket_id,
                                         TicketMessage.author_type == "customer",
                                         TicketMessage.seq.is_not(None))
        .order_by(TicketMessage.seq.desc()).limit(1))).scalar_one_or_none()


async def apply_turn(db: AsyncSession, chat: Chat, turn: Turn) -> bool:
    """Write the bot's decision; True when the chat was handed over to the queue."""
    if turn.action == "security":  # its text shows the self-service freeze at once
        await post(db, chat, BOT, turn.text, direction=Direction.OUT, only_if=Owner.BOT)
        return await hand_over(db, chat, reason="security", urgent=True,
                               team_slug=SECURITY_TEAM)
    if turn.action == "handoff":
        return await hand_over(db, chat, reason=turn.reason or "asked")
    articles = [{"id": a.article_id, "title": a.title, "url": a.url} for a in turn.articles]
    await post(db, chat, BOT, turn.text, direction=Direction.OUT, only_if=Owner.BOT,
               meta={"articles": articles, "ask_feedback": turn.action == "answer"})
    return False


@dataclass(frozen=True)
class Feedback:
    resolved: bool = False
    handed_over: bool = False
    ask_again: str | None = None  # the question to answer anew, without the offered articles


async def record_feedback(db: AsyncSession, chat: Chat, *, helpful: bool) -> Feedback:
    """"Did this solve it?" Yes ends the chat as solved by the bot (a deflection); a
    second no in a row hands it over; a first no asks for another answer."""
    if chat.owner != Owner.BOT:
        return Feedback()
    if helpful:
        await end_chat(db, chat, outcome=Outcome.BOT_RESOLVED, by="customer")
        return Feedback(resolved=True)
    chat.rejections += 1
    if chat.rejections >= MAX_REJECTIONS:
        return Feedback(handed_over=await hand_over(db, chat, reason="rejected"))
    return Feedback(ask_again=await last_question(db, chat))
