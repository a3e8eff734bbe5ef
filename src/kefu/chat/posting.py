"""Numbering and writing a chat's messages: the one place a chat message is stored.

A message the customer can see takes the chat's next sequence number in the same
`UPDATE chats SET last_seq = last_seq + 1 … RETURNING` that checks who owns the chat:
the row lock orders concurrent writers of one chat, so sequence order is commit order,
and a bot answer computed while the chat was being handed over finds the bot no longer
owns it and is dropped. Internal notes take no number: a client replays only numbered
messages, so no note can ever reach the customer.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kefu.chat import frames
from kefu.chat.models import Chat, Owner
from kefu.core import events
from kefu.core.clock import utcnow
from kefu.tickets.models import ChannelType, Direction, TicketMessage


@dataclass(frozen=True)
class Author:
    kind: str  # customer | bot | agent | system
    id: int | None
    name: str


BOT = Author("bot", None, "Kefu")
SYSTEM = Author("system", None, "Kefu")


async def next_seq(db: AsyncSession, chat: Chat, *, owner: Owner | None = None) -> int | None:
    """The chat's next number, or None when `owner` is given and no longer owns it."""
    statement = (update(Chat).where(Chat.ticket_id == chat.ticket_id)
                 .values(last_seq=Chat.last_seq + 1, updated_at=utcnow())
                 .returning(Chat.last_seq)
                 .execution_options(synchronize_session=False))
    if owner is not None:
        statement = statement.where(Chat.owner == owner)
    seq = (await db.execute(statement)).scalar_one_or_none()
    if seq is not None:
        set_committed_value(chat, "last_seq", seq)
    return seq


async def post(db: AsyncSession, chat: Chat, author: Author, body: str, *,
               direction: Direction, external_id: str | None = None,
               meta: dict[str, Any] | None = None, only_if: Owner | None = None,
               extra_keys: tuple[str, ...] = ()) -> TicketMessage | None:
    """Store a message and announce it after commit; None when `only_if` no longer owns
    the chat. The customer hears numbered messages; the owning agent hears all."""
    internal = direction == Direction.INTERNAL
    seq = None
    if not internal:
        seq = await next_seq(db, chat, owner=only_if)
        if seq is None:
            return None
    message = TicketMessage(
        ticket_id=chat.ticket_id, author_type=author.kind, author_id=author.id,
        author_name=author.name[:100], body=body, direction=direction,
        channel=ChannelType.CHAT, external_id=external_id, created_at=utcnow(),
        seq=seq, meta=meta)
    db.add(message)
    await db.flush()
    set_committed_value(message, "attachments", [])
    announce(db, frames.CHAT_MESSAGE, chat, customer=not internal,
             extra_keys=extra_keys, message=frames.message_frame(message))
    return message


def announce(db: AsyncSession, name: str, chat: Chat, *, customer: bool = True,
             extra_keys: tuple[str, ...] = (), **data: Any) -> None:
    """An event for the chat's customer (unless `customer` is False) and its agent."""
    keys = [*extra_keys]
    if customer:
        keys.append(frames.chat_key(chat.ticket_id))
    for agent_id in {chat.agent_id, chat.offered_agent_id} - {None}:
        assert agent_id is not None
        keys.append(frames.agent_key(agent_id))
    events.emit(db, name, keys=keys, chat=chat.ticket_id, **data)
