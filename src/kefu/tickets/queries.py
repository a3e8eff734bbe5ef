"""Read-side: inbox views, search, and turning rows into schemas."""

from collections.abc import Collection
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.contacts.identities import canonical
from kefu.contacts.models import ContactIdentity, Customer
from kefu.tickets.access import visible_to_agent
from kefu.tickets.models import (
    ACTIVE_STATUSES,
    Attachment,
    Direction,
    Status,
    Ticket,
    TicketMessage,
)
from kefu.tickets.schemas import (
    AttachmentRead,
    MessageRead,
    TicketDetail,
    TicketPage,
    TicketRead,
)
from kefu.triage.facts import facts_matching
from kefu.triage.models import TicketFact

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
    """Reference, any address of the customer (email, UID, a channel's user id) and TxID
    match exactly; anything else searches the text."""
    text = text.replace("\x00", "").strip()[:200]  # PostgreSQL text cannot hold NUL
    if not text:
        return query
    pattern = f"%{_escape_like(text)}%"
    contact_ids = select(ContactIdentity.customer_id).where(
        ContactIdentity.value.in_({text, canonical("email", text), canonical("x", text)}))
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


async def filed_since(db: AsyncSession, customer_ids: Collection[int], since: datetime
                      ) -> list[tuple[int, datetime]]:
    """(customer id, created at) of every ticket those customers filed since then: the help
    centre's deflection count (kefu.kb.queries.TicketsFiled) takes it as a parameter."""
    rows = await db.execute(select(Ticket.customer_id, Ticket.created_at).where(
        Ticket.customer_id.in_(customer_ids), Ticket.created_at >= since))
    return [(customer_id, created_at) for customer_id, created_at in rows]


async def messages_of(
    *, db: AsyncSession, ticket: Ticket, include_internal: bool
) -> list[MessageRead]:
    query = select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
    if not include_internal:
        query = query.where(TicketMessage.direction != Direction.INTERNAL)
    rows = (await db.execute(query.order_by(TicketMessage.created_at, TicketMessage.id))).scalars()
    return [message_read(m) for m in rows]


def message_read(message: TicketMessage) -> MessageRead:
    return MessageRead(
        author_type=message.author_type,
        author_name=message.author_name,
        body=message.body,
        direction=message.direction,
        channel=message.channel,
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
        identity_kind=ticket.identity_kind,
        identity_value=ticket.identity_value,
        team=ticket.team.slug if ticket.team else None,
        assignee_id=ticket.assignee_id,
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


async def same_transfer_tickets(*, db: AsyncSession, ticket: Ticket) -> list[str]:
    """References of the customer's other tickets naming one of this ticket's TxIDs: the
    same transfer asked about twice is a duplicate (shown to the agent; merging is triage's)."""
    mine = select(TicketFact.search).where(TicketFact.ticket_id == ticket.id,
                                           TicketFact.kind == "txid")
    sharing = select(TicketFact.ticket_id).where(TicketFact.kind == "txid",
                                                 TicketFact.search.in_(mine))
    query = (select(Ticket.reference)
             .where(Ticket.id.in_(sharing), Ticket.id != ticket.id,
                    Ticket.customer_id == ticket.customer_id, Ticket.bot_only.is_(False))
             .order_by(Ticket.created_at).limit(10))
    return list((await db.execute(query)).scalars())
