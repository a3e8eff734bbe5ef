"""Status, priority and assignment changes made by agents."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent, Team
from kefu.core import events
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput
from kefu.core.i18n import translate
from kefu.notifications.service import queue_customer_email
from kefu.tickets.feed import TICKET_UPDATED
from kefu.tickets.models import PRIORITY_RANK, Priority, Status, Ticket
from kefu.tickets.schemas import TicketUpdate

# new → open → pending-customer → resolved → closed; resolved may be reopened, closed is final.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING_CUSTOMER, Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING_CUSTOMER, Status.RESOLVED, Status.CLOSED}),
    Status.PENDING_CUSTOMER: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


async def change_status(*, db: AsyncSession, ticket: Ticket, agent: Agent, status: Status) -> None:
    current = Status(ticket.status)
    if status == current:
        return
    if status not in TRANSITIONS[current]:
        raise InvalidInput(f"A ticket cannot go from {current.value} to {status.value}.")
    now = utcnow()
    ticket.status = status
    ticket.updated_at = now
    if status == Status.RESOLVED:
        ticket.resolved_at = now
        _notify_resolved(db, ticket)
    elif status == Status.OPEN:
        ticket.resolved_at = None
    record(db, actor=("agent", agent.id), action="ticket.status_changed",
           target=("ticket", ticket.reference), detail={"from": current, "to": status})
    events.emit(db, TICKET_UPDATED, reference=ticket.reference, status=status)


def _notify_resolved(db: AsyncSession, ticket: Ticket) -> None:
    t = ticket.customer.lang
    subject = translate(t, "[%(ref)s] Your request was resolved: %(subject)s") % {
        "ref": ticket.reference, "subject": ticket.subject}
    lines = [translate(t, "How did we do? Rate our service: %(url)s")
             % {"url": f"/portal/tickets/{ticket.reference}#rate"},
             translate(t, "If the problem is not solved, just reply in the ticket.")]
    queue_customer_email(db, customer=ticket.customer, subject=subject, lines=lines)


async def change_priority(
    *, db: AsyncSession, ticket: Ticket, agent: Agent, priority: Priority
) -> None:
    if ticket.priority == priority:
        return
    record(db, actor=("agent", agent.id), action="ticket.priority_changed",
           target=("ticket", ticket.reference), detail={"from": ticket.priority, "to": priority})
    ticket.priority = priority
    ticket.priority_rank = PRIORITY_RANK[priority]
    ticket.updated_at = utcnow()
    events.emit(db, TICKET_UPDATED, reference=ticket.reference, priority=priority)


async def assign(
    *, db: AsyncSession, ticket: Ticket, agent: Agent, team: Team | None,
    assignee: Agent | None, unassign: bool = False,
) -> None:
    """Move to a team and/or an agent. An assignee outside the team moves the team too."""
    if assignee is not None and not assignee.active:
        raise InvalidInput("That agent is deactivated.")
    # Told to the consoles too: the team and agent who had it see it leave.
    was = {"was_team_id": ticket.team_id, "was_assignee_id": ticket.assignee_id}
    if team is not None:
        ticket.team_id = team.id
        ticket.team = team
    if unassign:
        ticket.assignee_id = None
        ticket.assignee = None
    elif assignee is not None:
        ticket.assignee_id = assignee.id
        ticket.assignee = assignee
        if assignee.team_id is not None and team is None:
            ticket.team_id = assignee.team_id
    ticket.updated_at = utcnow()
    record(db, actor=("agent", agent.id), action="ticket.assigned",
           target=("ticket", ticket.reference),
           detail={"team_id": ticket.team_id, "assignee_id": ticket.assignee_id})
    events.emit(db, TICKET_UPDATED, reference=ticket.reference, assignee_id=ticket.assignee_id,
                **was)


async def apply_update(
    *, db: AsyncSession, ticket: Ticket, agent: Agent, update: TicketUpdate
) -> None:
    """One agent edit (console form or API PATCH) expressed as the named verbs above."""
    team = None
    if update.team:
        team = (await db.execute(select(Team).where(Team.slug == update.team))).scalar_one_or_none()
        if team is None:
            raise InvalidInput("Unknown team.")
    assignee = None
    if update.assignee_email:
        query = select(Agent).where(Agent.email == str(update.assignee_email).lower())
        assignee = (await db.execute(query)).scalar_one_or_none()
        if assignee is None:
            raise InvalidInput("Unknown agent.")
    if team is not None or assignee is not None or update.unassign:
        await assign(db=db, ticket=ticket, agent=agent, team=team, assignee=assignee,
                     unassign=update.unassign)
    if update.priority is not None:
        await change_priority(db=db, ticket=ticket, agent=agent, priority=update.priority)
    if update.status is not None:
        await change_status(db=db, ticket=ticket, agent=agent, status=update.status)
