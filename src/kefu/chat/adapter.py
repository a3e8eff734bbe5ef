"""The chat channel's adapter: for replies written outside the chat console.

Messages written in a chat (`kefu.chat.posting`) are numbered and announced as they are
stored: the customer is watching, and a job queue's hop would add its latency to every
line. A reply an agent writes on the ticket page goes the way of every channel: a
`channel.deliver` job, which lands here. While the chat is open the reply takes the
chat's next number and reaches the customer's widget like any other line; once it has
ended nobody is watching, so the customer is told by email when they left an address.
"""

from typing import Any

from sqlalchemy import select

from kefu.channels.base import (
    Capabilities,
    ChannelAdapter,
    Identity,
    InboundMessage,
    OutboundMessage,
)
from kefu.channels.portal import reply_email
from kefu.channels.registry import register
from kefu.chat import frames
from kefu.chat.models import Chat, Owner
from kefu.chat.posting import announce, next_seq
from kefu.chat.service import MAX_TEXT, checked_client_id, clean_text
from kefu.contacts.models import IdentityKind
from kefu.core.errors import InvalidInput
from kefu.core.jobs import JobContext
from kefu.notifications.mailer import build_message, deliver
from kefu.tickets.models import ChannelType, TicketMessage


class ChatAdapter(ChannelAdapter):
    type = ChannelType.CHAT
    capabilities = Capabilities(threading=True, attachments=True, realtime=True,
                                max_length=MAX_TEXT)

    def receive(self, raw: object) -> InboundMessage:
        """A widget frame or POST body: {"chat", "client_id", "text"} from a visitor."""
        if not isinstance(raw, dict):
            raise InvalidInput("Not a chat message.")
        body: dict[str, Any] = raw
        chat_id, client_id = int(body.get("chat", 0)), checked_client_id(
            str(body.get("client_id", "")))
        return InboundMessage(channel=self.type, body=clean_text(str(body.get("text", ""))),
                              sender=Identity(IdentityKind.WIDGET_VISITOR,
                                              str(body.get("visitor", ""))),
                              external_id=f"{chat_id}:{client_id}")

    async def deliver(self, message: OutboundMessage, ctx: JobContext) -> str | None:
        async with ctx.session_factory() as db:
            row = await db.get(TicketMessage, message.message_id)
            chat = (await db.execute(select(Chat).where(Chat.ticket_id == row.ticket_id))
                    ).scalar_one_or_none() if row is not None else None
            if row is None or chat is None:
                return None
            if row.seq is not None:  # numbered already: a repeated delivery
                return None
            if chat.owner != Owner.ENDED:
                row.seq = await next_seq(db, chat)
                announce(db, frames.CHAT_MESSAGE, chat, message=frames.message_frame(row))
                await db.commit()
                return None
        if message.recipient_email:
            subject, text = reply_email(message)
            await deliver(ctx.settings, build_message(ctx.settings, to=message.recipient_email,
                                                      subject=subject, text=text))
        return None


CHAT_ADAPTER = register(ChatAdapter())
