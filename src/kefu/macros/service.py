"""Macros: the only code that writes them; reading, filling in and applying them.

Visibility: an agent sees their personal macros and their team's; supervisors and admins
see every team's. Managing: the owner manages a personal macro; a team's macros are
managed by its members' supervisors and admins, and by the agent who wrote it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent, Team
from kefu.core import events
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput, NotFound
from kefu.macros.models import Macro
from kefu.macros.schemas import MacroFields
from kefu.tickets import workflow
from kefu.tickets.models import Priority, Status, Ticket

MACRO_CHANGED = "macro.changed"
MAX_LISTED = 200
# {customer_name}, {ticket_reference}, {agent_name}: the same names in both languages.
VARIABLE = re.compile(r"\{(customer_name|ticket_reference|agent_name)\}")
VARIABLES = ("customer_name", "ticket_reference", "agent_name")


@dataclass(frozen=True)
class Values:
    """What a macro's variables are filled with (a ticket today, a conversation later)."""

    customer_name: str
    ticket_reference: str
    agent_name: str


def fill(text: str, values: Values) -> str:
    """`text` with each known variable replaced; anything else in braces is left as is."""
    return VARIABLE.sub(lambda m: str(getattr(values, m.group(1))), text)


def _visible(agent: Agent) -> ColumnElement[bool]:
    if agent.sees_all_teams:
        return or_(Macro.owner_id == agent.id, Macro.team_id.is_not(None))
    team = Macro.team_id == agent.team_id if agent.team_id is not None else false()
    return or_(Macro.owner_id == agent.id, team)


async def visible_macros(*, db: AsyncSession, agent: Agent, query: str = "",
                         limit: int = MAX_LISTED) -> Sequence[Macro]:
    """The agent's macros whose title or text contains every word of `query`."""
    statement = select(Macro).where(_visible(agent))
    for word in query.replace("\x00", " ").split()[:5]:
        pattern = f"%{_escape_like(word[:50])}%"
        statement = statement.where(or_(Macro.title.ilike(pattern, escape="\\"),
                                        Macro.body_en.ilike(pattern, escape="\\"),
                                        Macro.body_zh.ilike(pattern, escape="\\")))
    statement = statement.order_by(Macro.title, Macro.id).limit(max(1, min(limit, MAX_LISTED)))
    return (await db.execute(statement)).scalars().all()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def access_macro_by_id(*, db: AsyncSession, agent: Agent, macro_id: int) -> Macro:
    """A macro the agent may use; invisible ones are NotFound, like missing ones."""
    if not 0 < macro_id < 2**31:  # beyond an INTEGER column: no such row
        raise NotFound()
    macro = await db.get(Macro, macro_id)
    if macro is None or not _sees(agent, macro):
        raise NotFound()
    return macro


def _sees(agent: Agent, macro: Macro) -> bool:
    if macro.owner_id is not None:
        return macro.owner_id == agent.id
    return agent.sees_all_teams or macro.team_id == agent.team_id


def may_manage(agent: Agent, macro: Macro) -> bool:
    if macro.owner_id is not None:
        return macro.owner_id == agent.id
    return agent.sees_all_teams or macro.created_by_id == agent.id


async def _team(db: AsyncSession, slug: str | None) -> Team | None:
    if not slug:
        return None
    team = (await db.execute(select(Team).where(Team.slug == slug))).scalar_one_or_none()
    if team is None:
        raise InvalidInput("Unknown team.")
    return team


async def _apply_fields(db: AsyncSession, agent: Agent, macro: Macro,
                        fields: MacroFields) -> None:
    scope_team = await _team(db, fields.team) if fields.scope == "team" else None
    if scope_team is not None and not agent.sees_all_teams and scope_team.id != agent.team_id:
        raise InvalidInput("You can only add macros for your own team.")
    set_team = await _team(db, fields.set_team)
    macro.title = fields.title
    macro.body_en = fields.body_en
    macro.body_zh = fields.body_zh
    macro.owner_id = agent.id if scope_team is None else None
    macro.team_id = scope_team.id if scope_team is not None else None
    macro.set_status = fields.set_status
    macro.set_priority = fields.set_priority
    macro.set_team_id = set_team.id if set_team is not None else None
    macro.updated_at = utcnow()


async def create_macro(*, db: AsyncSession, agent: Agent, fields: MacroFields) -> Macro:
    now = utcnow()
    macro = Macro(created_by_id=agent.id, created_at=now, updated_at=now)
    await _apply_fields(db, agent, macro, fields)
    db.add(macro)
    await db.flush()
    record(db, actor=("agent", agent.id), action="macro.created", target=("macro", macro.id),
           detail={"team_id": macro.team_id, "personal": macro.owner_id is not None})
    events.emit(db, MACRO_CHANGED, macro_id=macro.id, change="created")
    return macro


async def update_macro(*, db: AsyncSession, agent: Agent, macro: Macro,
                       fields: MacroFields) -> Macro:
    if not may_manage(agent, macro):
        raise NotFound()
    await _apply_fields(db, agent, macro, fields)
    record(db, actor=("agent", agent.id), action="macro.updated", target=("macro", macro.id),
           detail={"team_id": macro.team_id, "personal": macro.owner_id is not None})
    events.emit(db, MACRO_CHANGED, macro_id=macro.id, change="updated")
    return macro


async def delete_macro(*, db: AsyncSession, agent: Agent, macro: Macro) -> None:
    if not may_manage(agent, macro):
        raise NotFound()
    record(db, actor=("agent", agent.id), action="macro.deleted", target=("macro", macro.id),
           detail={"title": macro.title})
    events.emit(db, MACRO_CHANGED, macro_id=macro.id, change="deleted")
    await db.delete(macro)


def values_for_ticket(ticket: Ticket, agent: Agent) -> Values:
    return Values(customer_name=ticket.customer.display, ticket_reference=ticket.reference,
                  agent_name=agent.name)


def text_for_ticket(macro: Macro, ticket: Ticket, agent: Agent) -> str:
    """The macro's text in the customer's language, its variables filled in."""
    return fill(macro.body(ticket.customer.lang), values_for_ticket(ticket, agent))


async def apply_to_ticket(*, db: AsyncSession, agent: Agent, macro: Macro,
                          ticket: Ticket) -> None:
    """Make the ticket changes the macro carries (status, priority, team), through the
    ticket verbs, which audit and announce each change; and note the use itself."""
    team = await db.get(Team, macro.set_team_id) if macro.set_team_id is not None else None
    if team is not None:
        await workflow.assign(db=db, ticket=ticket, agent=agent, team=team, assignee=None)
    if macro.set_priority:
        await workflow.change_priority(db=db, ticket=ticket, agent=agent,
                                       priority=Priority(macro.set_priority))
    if macro.set_status:
        await workflow.change_status(db=db, ticket=ticket, agent=agent,
                                     status=Status(macro.set_status))
    record(db, actor=("agent", agent.id), action="macro.applied",
           target=("ticket", ticket.reference), detail={"macro_id": macro.id})
    events.emit(db, "macro.applied", macro_id=macro.id, reference=ticket.reference)
