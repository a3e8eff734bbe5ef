"""Status, priority and assignment changes made by agents."""

from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent, Team
from kefu.core import events
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput
from kefu.core.i18n import translate
from kefu.notifications.service import queue_customer_email
from kefu.tickets.feed import TICKET_UPDATED
from kefu.tickets.models import ACTIVE_STATUSES, PRIORITY_RANK, Priority, Status, Ticket
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
    queue_customer_email(db, customer=ticket.customer, subject=subject, lines=lines,
                         ticket_reference=ticket.reference)


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
    """Move to a team and/or an agent. An assignee outside the team moves the team too.

    A call that changes nothing writes nothing: no audit entry, no event."""
    if assignee is not None and not assignee.active:
        raise InvalidInput("That agent is deactivated.")
    before = (ticket.team_id, ticket.assignee_id)
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
            ticket.team = await db.get(Team, assignee.team_id)
    if (ticket.team_id, ticket.assignee_id) == before:
        return
    ticket.updated_at = utcnow()
    record(db, actor=("agent", agent.id), action="ticket.assigned",
           target=("ticket", ticket.reference),
           detail={"team_id": ticket.team_id, "assignee_id": ticket.assignee_id,
                   "assignee": assignee.name if assignee is not None and not unassign else None})
    # Told to the consoles too: the team and agent who had it see it leave.
    events.emit(db, TICKET_UPDATED, reference=ticket.reference, assignee_id=ticket.assignee_id,
                was_team_id=before[0], was_assignee_id=before[1])


async def find_assignee(
    *, db: AsyncSession, agent_id: int | None, email: str | None
) -> Agent | None:
    """The agent named by id, or by the exact email of an existing agent (case aside)."""
    found: Agent | None = None
    if agent_id is not None:
        found = await db.get(Agent, agent_id)
        if found is None:
            raise InvalidInput("Unknown agent.")
    if email:
        by_email = (await db.execute(
            select(Agent).where(Agent.email == email.strip().lower()))).scalar_one_or_none()
        if by_email is None or (found is not None and found.id != by_email.id):
            raise InvalidInput("Unknown agent." if by_email is None
                               else "The agent id and email name different agents.")
        found = by_email
    return found


async def apply_update(
    *, db: AsyncSession, ticket: Ticket, agent: Agent, update: TicketUpdate
) -> None:
    """One agent edit (console form or API PATCH) expressed as the named verbs above."""
    team = None
    if update.team:
        team = (await db.execute(select(Team).where(Team.slug == update.team))).scalar_one_or_none()
        if team is None:
            raise InvalidInput("Unknown team.")
    assignee = await find_assignee(db=db, agent_id=update.assignee_id,
                                   email=update.assignee_email)
    if assignee is not None and update.unassign:
        raise InvalidInput("Choose an assignee or unassign, not both.")
    if team is not None or assignee is not None or update.unassign:
        await assign(db=db, ticket=ticket, agent=agent, team=team, assignee=assignee,
                     unassign=update.unassign)
    if update.priority is not None:
        await change_priority(db=db, ticket=ticket, agent=agent, priority=update.priority)
    if update.status is not None:
        await change_status(db=db, ticket=ticket, agent=agent, status=update.status)


TAKE_ATTEMPTS = 5


async def take_next(*, db: AsyncSession, agent: Agent,
                    routed_elsewhere: Select[Any] | None = None) -> Ticket | None:
    """Assign the agent the next ticket of their team's unassigned queue: most urgent
    first, then oldest. Two agents taking at once never get the same ticket: the claim is
    one conditional UPDATE, and a lost race moves on to the next candidate.
    `routed_elsewhere` selects ticket ids another router hands out (live chats: the chat
    queue offers them), which this queue skips; a chat the bot has is never in it."""
    if agent.team_id is None:
        return None
    queue = (select(Ticket.id)
             .where(Ticket.team_id == agent.team_id, Ticket.assignee_id.is_(None),
                    Ticket.status.in_(ACTIVE_STATUSES), Ticket.bot_only.is_(False))
             .order_by(Ticket.priority_rank.desc(), Ticket.created_at, Ticket.id))
    if routed_elsewhere is not None:
        queue = queue.where(Ticket.id.not_in(routed_elsewhere))
    for _attempt in range(TAKE_ATTEMPTS):
        ticket_id = (await db.execute(queue.limit(1))).scalar_one_or_none()
        if ticket_id is None:
            return None
        claim = (update(Ticket).where(Ticket.id == ticket_id, Ticket.assignee_id.is_(None))
                 .values(assignee_id=agent.id, updated_at=utcnow())
                 .execution_options(synchronize_session=False))
        if (await db.execute(claim)).rowcount == 1:  # type: ignore[attr-defined]
            ticket = await db.get(Ticket, ticket_id, populate_existing=True)
            assert ticket is not None
            record(db, actor=("agent", agent.id), action="ticket.assigned",
                   target=("ticket", ticket.reference),
                   detail={"team_id": ticket.team_id, "assignee_id": agent.id,
                           "assignee": agent.name, "taken": True})
            events.emit(db, TICKET_UPDATED, reference=ticket.reference, assignee_id=agent.id)
            return ticket
    return None
