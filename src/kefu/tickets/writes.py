"""Writing a new ticket in as few round trips as the database allows.

Every channel's new ticket lands here, so this is the desk's busiest write. PostgreSQL
takes the ticket, its first message, the audit entry and the notification job in ONE
statement (data-modifying CTEs: one parse, one round trip, atomic on its own); SQLite,
in-process and without round trips, gets one INSERT each. Both run in the caller's
transaction, as plain Core statements: the ORM's unit of work cost more CPU than the
database did on this path.
"""

import functools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Executable, Select, Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Team
from kefu.core.db import dialect_name
from kefu.core.jobs import Job
from kefu.security.audit import AuditEntry
from kefu.tickets.models import Ticket, TicketMessage

TICKETS = cast(Table, Ticket.__table__)
MESSAGES = cast(Table, TicketMessage.__table__)
AUDIT = cast(Table, AuditEntry.__table__)
JOBS = cast(Table, Job.__table__)
TEAMS = cast(Table, Team.__table__)


@dataclass(frozen=True)
class NewTicketRows:
    """The columns to write; ids are the database's to assign."""

    ticket: dict[str, Any]  # without id and team_id
    team_slug: str  # resolved to team_id inside the insert: no separate lookup
    message: dict[str, Any]  # without id and ticket_id
    audit: dict[str, Any]
    job: dict[str, Any] | None  # the notification, when the customer has an address


@dataclass(frozen=True)
class WrittenTicket:
    ticket_id: int
    team_id: int | None  # None when the routed team no longer exists
    message_id: int


async def insert_new_ticket(db: AsyncSession, rows: NewTicketRows) -> WrittenTicket:
    if dialect_name(db) == "postgresql":
        return await _in_one_statement(db, rows)
    return await _one_by_one(db, rows)


# Statements are built once per shape, with bind parameters, and reused: building an
# INSERT from values and computing its cache key cost more CPU than running it.
Shape = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...] | None]


def _shape(rows: NewTicketRows) -> Shape:
    return (tuple(rows.ticket), tuple(rows.message), tuple(rows.audit),
            tuple(rows.job) if rows.job is not None else None)


def _params(rows: NewTicketRows) -> dict[str, Any]:
    params = {"team_slug": rows.team_slug}
    for prefix, values in (("t_", rows.ticket), ("m_", rows.message), ("a_", rows.audit),
                           ("j_", rows.job or {})):
        params.update({prefix + name: value for name, value in values.items()})
    return params


def _binds(table: Table, prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: bindparam(prefix + name, type_=table.c[name].type) for name in names}


def _insert_ticket(names: tuple[str, ...]) -> Any:
    """INSERT of the ticket, its team looked up by slug inside it, returning id and team."""
    team_id = select(TEAMS.c.id).where(TEAMS.c.slug == bindparam("team_slug")).scalar_subquery()
    return (insert(TICKETS).values(**_binds(TICKETS, "t_", names), team_id=team_id)
            .returning(TICKETS.c.id, TICKETS.c.team_id))


@functools.lru_cache(maxsize=16)
def _one_statement(shape: Shape) -> Select[Any]:
    ticket_names, message_names, audit_names, job_names = shape
    ticket = _insert_ticket(ticket_names).cte("new_ticket")
    message_values = select(ticket.c.id.label("ticket_id"), *(
        bind.label(name) for name, bind in _binds(MESSAGES, "m_", message_names).items()))
    message = (insert(MESSAGES)
               .from_select(["ticket_id", *message_names], message_values)
               .returning(MESSAGES.c.id, MESSAGES.c.ticket_id).cte("new_message"))
    # PostgreSQL runs every data-modifying CTE to completion even when the final SELECT
    # does not read it; add_cte makes SQLAlchemy render the ones it does not reference.
    query: Select[Any] = (
        select(ticket.c.id, ticket.c.team_id, message.c.id)
        .join_from(ticket, message, ticket.c.id == message.c.ticket_id)
        .add_cte(insert(AUDIT).values(**_binds(AUDIT, "a_", audit_names)).cte("new_audit")))
    if job_names is not None:
        query = query.add_cte(
            insert(JOBS).values(**_binds(JOBS, "j_", job_names)).cte("new_job"))
    return query


async def _in_one_statement(db: AsyncSession, rows: NewTicketRows) -> WrittenTicket:
    ticket_id, team_id, message_id = (
        await db.execute(_one_statement(_shape(rows)), _params(rows))).one()
    return WrittenTicket(ticket_id, team_id, message_id)


@functools.lru_cache(maxsize=16)
def _separate_statements(shape: Shape) -> tuple[Executable, ...]:
    ticket_names, message_names, audit_names, job_names = shape
    ticket = _insert_ticket(ticket_names)
    message = (insert(MESSAGES)
               .values(**_binds(MESSAGES, "m_", message_names), ticket_id=bindparam("ticket_id"))
               .returning(MESSAGES.c.id))
    audit = insert(AUDIT).values(**_binds(AUDIT, "a_", audit_names))
    if job_names is None:
        return ticket, message, audit
    return ticket, message, audit, insert(JOBS).values(**_binds(JOBS, "j_", job_names))


async def _one_by_one(db: AsyncSession, rows: NewTicketRows) -> WrittenTicket:
    ticket, message, *rest = _separate_statements(_shape(rows))
    params = _params(rows)
    ticket_id, team_id = (await db.execute(ticket, params)).one()
    params["ticket_id"] = ticket_id
    message_id = (await db.execute(message, params)).scalar_one()
    for statement in rest:
        await db.execute(statement, params)
    return WrittenTicket(ticket_id, team_id, message_id)
