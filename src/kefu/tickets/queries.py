"""Read-side: inbox views, search, and turning rows into schemas."""

from enum import StrEnum

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.contacts.models import Customer
from kefu.tickets.access import visible_to_agent
from kefu.tickets.models import ACTIVE_STATUSES, Attachment, Status, Ticket, TicketMessage
from kefu.tickets.schemas import (
    AttachmentRead,
    MessageRead,
    TicketDetail,
    TicketPage,
    TicketRead,
)
from kefu.triage.facts import facts_matching

MAX_PER_PAGE = 100


class View(StrEnum):
    MINE = "mine"
    TEAM_UNASSIGNED = "team_unassigned"
    ALL_OPEN = "all_open"
    PENDING_CUSTOMER = "pending_customer"
    BY_PRIORITY = "by_priority"
    RESOLVED = "resolved"
    ALL = "all"


def _apply_view(query: Select[Ticket], view: View, agent: Agent) -> Select[Ticket]:
    active = Ticket.status.in_(ACTIVE_STATUSES)
    if view == View.MINE:
        return query.where(Ticket.assignee_id == agent.id, active)
    if view == View.TEAM_UNASSIGNED:
        return query.where(Ticket.team_id == agent.team_id, Ticket.assignee_id.is_(None), active)
    if view == View.ALL_OPEN:
        return query.where(Ticket.status.in_((Status.NEW, Status.OPEN)))
    if view == View.PENDING_CUSTOMER:
        return query.where(Ticket.status == Status.PENDING_CUSTOMER)
    if view == View.BY_PRIORITY:
        return query.where(active)
    if view == View.RESOLVED:
        return query.where(Ticket.status.in_((Status.RESOLVED, Status.CLOSED)))
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _apply_search(query: Select[Ticket], text: str) -> Select[Ticket]:
    """Reference, contact email and UID match exactly; anything else searches the text."""
    text = text.strip()[:200]
    if not text:
        return query
    pattern = f"%{_escape_like(text)}%"
    contact_ids = select(Customer.id).where(
        or_(func.lower(Customer.email) == text.lower(), Customer.uid == text)
    )
    return query.where(
        or_(
            Ticket.reference == text.upper(),
            Ticket.uid == text,
            Ticket.txid == text,
            Ticket.id.in_(facts_matching(text)),  # a TxID, address, order id ... exactly
            Ticket.customer_id.in_(contact_ids),
            Ticket.subject.ilike(pattern, escape="\\"),
            Ticket.description.ilike(pattern, escape="\\"),
        )
    )


async def agent_inbox(
    *, db: AsyncSession, agent: Agent, view: View = View.ALL_OPEN, search: str = "",
    page: int = 1, per_page: int = 25,
) -> TicketPage:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    query = _apply_search(_apply_view(visible_to_agent(select(Ticket), agent), view, agent),
                          search)
    total = (await db.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    order = (
        (Ticket.priority_rank.desc(), Ticket.created_at)
        if view in (View.BY_PRIORITY, View.MINE, View.TEAM_UNASSIGNED)
        else (Ticket.updated_at.desc(),)
    )
    rows = await db.execute(query.order_by(*order).offset((page - 1) * per_page).limit(per_page))
    items = [ticket_read(t) for t in rows.unique().scalars()]
    return TicketPage(items=items, total=total, page=page, per_page=per_page)


async def customer_tickets(*, db: AsyncSession, customer: Customer) -> list[TicketRead]:
    query = (
        select(Ticket).where(Ticket.customer_id == customer.id).order_by(Ticket.created_at.desc())
    )
    return [ticket_read(t) for t in (await db.execute(query.limit(200))).unique().scalars()]


async def messages_of(
    *, db: AsyncSession, ticket: Ticket, include_internal: bool
) -> list[MessageRead]:
    query = select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
    if not include_internal:
        query = query.where(TicketMessage.internal.is_(False))
    rows = (await db.execute(query.order_by(TicketMessage.created_at, TicketMessage.id))).scalars()
    return [message_read(m) for m in rows]


def message_read(message: TicketMessage) -> MessageRead:
    return MessageRead(
        author_type=message.author_type,
        author_name=message.author_name,
        body=message.body,
        internal=message.internal,
        created_at=message.created_at,
        attachments=[attachment_read(a) for a in message.attachments],
    )


def attachment_read(attachment: Attachment) -> AttachmentRead:
    return AttachmentRead(key=attachment.key, filename=attachment.filename,
                          content_type=attachment.content_type, size=attachment.size)


def ticket_read(ticket: Ticket) -> TicketRead:
    return TicketRead(
        reference=ticket.reference,
        subject=ticket.subject,
        description=ticket.description,
        category=ticket.category,
        status=ticket.status,
        priority=ticket.priority,
        channel=ticket.channel,
        team=ticket.team.slug if ticket.team else None,
        assignee_email=ticket.assignee.email if ticket.assignee else None,
        contact_email=ticket.customer.email,
        uid=ticket.uid,
        txid=ticket.txid,
        occurred_at=ticket.occurred_at,
        platform=ticket.platform,
        platform_version=ticket.platform_version,
        desired_outcome=ticket.desired_outcome,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        rating=ticket.rating,
    )


async def ticket_detail(
    *, db: AsyncSession, ticket: Ticket, include_internal: bool
) -> TicketDetail:
    messages = await messages_of(db=db, ticket=ticket, include_internal=include_internal)
    return TicketDetail(**ticket_read(ticket).model_dump(), messages=messages)
