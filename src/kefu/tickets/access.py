"""Protected ticket loading. A ticket the actor may not see is a 404, same as a missing one."""

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.contacts.models import Customer
from kefu.core.errors import NotFound
from kefu.tickets.models import Ticket, TicketMessage


def visible_to_agent(query: Select[Ticket], agent: Agent) -> Select[Ticket]:
    """Agents see their team's tickets and those assigned to them; supervisors see all.
    Nobody sees a chat the bot still owns or solved (`bot_only`) until it is handed over."""
    query = query.where(Ticket.bot_only.is_(False))
    if agent.sees_all_teams:
        return query
    return query.where(or_(Ticket.team_id == agent.team_id, Ticket.assignee_id == agent.id))


async def access_ticket_for_agent(*, db: AsyncSession, agent: Agent, reference: str) -> Ticket:
    query = visible_to_agent(select(Ticket).where(Ticket.reference == reference), agent)
    ticket = (await db.execute(query)).unique().scalar_one_or_none()
    if ticket is None:
        raise NotFound()
    return ticket


async def access_ticket_for_customer(
    *, db: AsyncSession, customer: Customer, reference: str
) -> Ticket:
    query = select(Ticket).where(
        Ticket.reference == reference, Ticket.customer_id == customer.id
    )
    ticket = (await db.execute(query)).unique().scalar_one_or_none()
    if ticket is None:
        raise NotFound()
    return ticket


async def access_ticket_by_key(*, db: AsyncSession, channel: str, key: str) -> Ticket:
    """The ticket whose first message came by `channel` with the external id `key`.
    Holding the key is the permission: callers build keys only from their own identity
    (an API token's agent, a portal customer), so nobody reaches another's ticket."""
    query = (select(Ticket).join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
             .where(TicketMessage.channel == channel, TicketMessage.external_id == key))
    ticket = (await db.execute(query.limit(1))).unique().scalar_one_or_none()
    if ticket is None:
        raise NotFound()
    return ticket
