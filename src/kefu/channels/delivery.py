"""The `channel.deliver` job: an outbound message, handed to its channel's adapter.

Ticket verbs record the message and queue this job in their transaction (an outbox), so a
crash between the two loses nothing and a failed delivery is retried from the jobs table.
"""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels import portal  # noqa: F401  (registers the portal and API adapters)
from kefu.channels.base import OutboundMessage
from kefu.channels.email import adapter  # noqa: F401  (registers the email adapter)
from kefu.channels.registry import adapter_for
from kefu.contacts.identities import identities_of
from kefu.core import jobs
from kefu.tickets.models import Direction, Ticket, TicketMessage
from kefu.tickets.service import DELIVER_MESSAGE


async def outbound_message(db: AsyncSession, message_id: int) -> OutboundMessage | None:
    """The message as its adapter needs it; None when there is nothing to deliver."""
    row = (await db.execute(
        select(TicketMessage, Ticket).join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(TicketMessage.id == message_id))).unique().first()
    if row is None or row[0].direction != Direction.OUT:
        return None
    message, ticket = row
    customer = ticket.customer
    identities = {i.kind: i.value for i in await identities_of(db=db, customer_id=customer.id)}
    return OutboundMessage(
        message_id=message.id, ticket_reference=ticket.reference, ticket_subject=ticket.subject,
        channel=message.channel, body=message.body, author_name=message.author_name,
        recipient_email=customer.email, recipient_lang=customer.lang,
        anti_phishing_code=customer.anti_phishing_code, identities=identities)


@jobs.handler(DELIVER_MESSAGE)
async def deliver_message_job(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    async with ctx.session_factory() as db:
        message = await outbound_message(db, int(payload["message_id"]))
    if message is None:
        return  # deleted, or not an outbound message: nothing will ever be sent
    external_id = await adapter_for(message.channel).deliver(message, ctx)
    if external_id is not None:
        # Kept so the customer's answer (an email's In-Reply-To, say) finds its thread.
        async with ctx.session_factory() as db:
            await db.execute(update(TicketMessage).where(TicketMessage.id == message.message_id)
                             .values(external_id=external_id[:200]))
            await db.commit()
