"""What an agent sees of the customer beside a ticket: who they are and how sure we are
of it, their other tickets, and their recent security events. Read-only."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.core.audit import AuditEntry
from kefu.integrations.exchange.models import AccountFreeze
from kefu.tickets.access import visible_to_agent
from kefu.tickets.models import Ticket

OTHER_TICKETS = 10
SECURITY_EVENTS = 10
# Audit actions a customer takes that matter to an agent judging a request's risk.
SECURITY_ACTIONS = ("exchange.freeze_requested", "customer.reset_requested",
                    "customer.anti_phishing_code_set", "customer.identified_by_uid")


@dataclass(frozen=True)
class OtherTicket:
    reference: str
    subject: str
    status: str
    category: str
    created_at: datetime
    visible: bool  # False: another team's, listed without a link


@dataclass(frozen=True)
class SecurityEvent:
    at: datetime
    kind: str  # an audit action, or "freeze.<status>" for a freeze's outcome


@dataclass(frozen=True)
class CustomerContext:
    name: str
    email: str | None
    account_uid: str | None  # vouched for by the exchange (sign-in) or an integrator
    typed_uid: str | None  # typed in this ticket's form when it differs: not verified
    lang: str
    anti_phishing_set: bool  # whether, never which: the code is the customer's secret
    customer_since: datetime
    other_tickets: list[OtherTicket]
    security_events: list[SecurityEvent]


async def customer_context(*, db: AsyncSession, agent: Agent, ticket: Ticket
                           ) -> CustomerContext:
    customer = ticket.customer
    typed = ticket.uid if ticket.uid and ticket.uid != customer.uid else None
    return CustomerContext(
        name=customer.display, email=customer.email, account_uid=customer.uid,
        typed_uid=typed, lang=customer.lang, anti_phishing_set=bool(customer.anti_phishing_code),
        customer_since=customer.created_at,
        other_tickets=await _other_tickets(db, agent, ticket),
        security_events=await _security_events(db, customer.id))


async def _other_tickets(db: AsyncSession, agent: Agent, ticket: Ticket) -> list[OtherTicket]:
    query = (select(Ticket.id, Ticket.reference, Ticket.subject, Ticket.status,
                    Ticket.category, Ticket.created_at)
             .where(Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id,
                    Ticket.bot_only.is_(False))  # the bot's chats are no agent's business
             .order_by(Ticket.created_at.desc()).limit(OTHER_TICKETS))
    rows = (await db.execute(query)).all()
    if not rows:
        return []
    visible_query = visible_to_agent(select(Ticket.id), agent).where(
        Ticket.id.in_([r.id for r in rows]))
    visible = set((await db.execute(visible_query)).scalars())
    # Another team's ticket is listed (an agent should know it exists) without its subject.
    return [OtherTicket(r.reference, r.subject if r.id in visible else "", r.status,
                        r.category, r.created_at, r.id in visible) for r in rows]


async def _security_events(db: AsyncSession, customer_id: int) -> list[SecurityEvent]:
    audit = await db.execute(
        select(AuditEntry.at, AuditEntry.action)
        .where(AuditEntry.actor_type == "customer", AuditEntry.actor_id == str(customer_id),
               AuditEntry.action.in_(SECURITY_ACTIONS))
        .order_by(AuditEntry.id.desc()).limit(SECURITY_EVENTS))
    freezes = await db.execute(
        select(AccountFreeze.completed_at, AccountFreeze.status)
        .where(AccountFreeze.customer_id == customer_id,
               AccountFreeze.completed_at.is_not(None))
        .order_by(AccountFreeze.id.desc()).limit(SECURITY_EVENTS))
    events = [SecurityEvent(at, action) for at, action in audit.all()]
    events += [SecurityEvent(at, f"freeze.{status}") for at, status in freezes.all()
               if at is not None]
    return sorted(events, key=lambda e: e.at, reverse=True)[:SECURITY_EVENTS]
