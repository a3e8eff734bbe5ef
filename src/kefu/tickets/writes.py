"""Writing a new ticket in as few round trips as the database allows.

Every channel's new ticket lands here, so this is the desk's busiest write. PostgreSQL
takes the ticket, its first message, the audit entries, the notification job and, for
someone new, the customer in ONE statement (data-modifying CTEs: one parse, one round
trip, atomic on its own); SQLite, in-process and without round trips, gets one INSERT
each. Both are plain Core statements: the ORM's unit of work cost more CPU than the
database did on this path. On a session they run in its transaction; on PostgreSQL
they may also run directly on the driver (`kefu.core.driver`), where the one statement
commits by itself.
"""

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Executable, Select, Table, bindparam, insert, select, true, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from kefu.accounts.models import Team
from kefu.contacts.models import ContactIdentity, Customer
from kefu.core.audit import AuditEntry
from kefu.core.driver import Database, dialect_of, first
from kefu.core.jobs import Job
from kefu.tickets.feed import DESK_EVENTS
from kefu.tickets.models import Ticket, TicketMessage

TICKETS = cast(Table, Ticket.__table__)
MESSAGES = cast(Table, TicketMessage.__table__)
AUDIT = cast(Table, AuditEntry.__table__)
JOBS = cast(Table, Job.__table__)
TEAMS = cast(Table, Team.__table__)
CUSTOMERS = cast(Table, Customer.__table__)
IDENTITIES = cast(Table, ContactIdentity.__table__)


@dataclass(frozen=True)
class NewTicketRows:
    """The columns to write; ids are the database's to assign."""

    ticket: dict[str, Any]  # without id and team_id (and customer_id for a new customer)
    team_slug: str  # resolved to team_id inside the insert: no separate lookup
    message: dict[str, Any]  # without id and ticket_id (and author_id for a new customer)
    audits: tuple[dict[str, Any], ...]  # entries with the same columns
    job: dict[str, Any] | None  # the notification, when the customer has an address
    # A customer to write first, whose id becomes the ticket's customer_id and the first
    # message's author_id. If their email or UID is taken meanwhile, nothing is written.
    customer: dict[str, Any] | None = None
    # That new customer's identities (without customer_id), written with them.
    identities: tuple[dict[str, Any], ...] = ()
    # The desk feed's row (`kefu.tickets.feed.row_values`), team_id taken from the ticket.
    event: dict[str, Any] | None = None


@dataclass(frozen=True)
class WrittenTicket:
    ticket_id: int
    team_id: int | None  # None when the routed team no longer exists
    message_id: int
    customer_id: int
    event_id: int | None = None  # the feed row's id, when one was given


async def insert_new_ticket(db: Database, rows: NewTicketRows) -> WrittenTicket | None:
    """The ids written, or None when the new customer's address or UID was taken.

    Both statement forms write the same completed rows (`complete`): a column the caller
    leaves out gets its model default here, never a backend's idea of one."""
    rows = _completed(rows)
    if dialect_of(db) == "postgresql":
        return await _in_one_statement(db, rows)
    assert isinstance(db, AsyncSession)  # only PostgreSQL has a direct path
    return await _one_by_one(db, rows)


@functools.cache
def _scalar_defaults(table: Table) -> tuple[tuple[str, Any], ...]:
    return tuple((c.name, c.default.arg) for c in table.columns
                 if isinstance(c.default, ScalarElementColumnDefault))


@functools.cache
def required_columns(table: Table) -> frozenset[str]:
    """Columns a row must give: NOT NULL, with no default on either side, not the key."""
    return frozenset(c.name for c in table.columns
                     if not c.nullable and c.default is None and c.server_default is None
                     and not c.primary_key)


def complete(table: Table, values: dict[str, Any], *, given_later: frozenset[str] = frozenset()
             ) -> dict[str, Any]:
    """`values` with each missing column's scalar model default; refuses a row that leaves
    out a required column (other than the ids the statement itself supplies)."""
    missing = required_columns(table) - values.keys() - given_later
    if missing:
        raise ValueError(f"{table.name}: a new row must give {sorted(missing)}")
    defaults = {name: value for name, value in _scalar_defaults(table) if name not in values}
    return {**defaults, **values} if defaults else values


_FROM_STATEMENT = frozenset({"ticket_id", "team_id", "customer_id", "author_id"})


def _completed(rows: NewTicketRows) -> NewTicketRows:
    return dataclasses.replace(
        rows, ticket=complete(TICKETS, rows.ticket, given_later=_FROM_STATEMENT),
        message=complete(MESSAGES, rows.message, given_later=_FROM_STATEMENT),
        audits=tuple(complete(AUDIT, entry) for entry in rows.audits),
        job=None if rows.job is None else complete(JOBS, rows.job),
        customer=None if rows.customer is None else complete(CUSTOMERS, rows.customer),
        identities=tuple(complete(IDENTITIES, row, given_later=_FROM_STATEMENT)
                         for row in rows.identities))


# Statements are built once per shape, with bind parameters, and reused: building an
# INSERT from values and computing its cache key cost more CPU than running it.
# (ticket, message, (audit columns, entries), job or None, customer or None,
#  (identity columns, entries), event or None)
Shape = tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, ...], int],
              tuple[str, ...] | None, tuple[str, ...] | None, tuple[tuple[str, ...], int],
              tuple[str, ...] | None]


def _columns(values: dict[str, Any] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


def _shape(rows: NewTicketRows) -> Shape:
    identities = (tuple(rows.identities[0]) if rows.identities else (), len(rows.identities))
    return (tuple(rows.ticket), tuple(rows.message), (tuple(rows.audits[0]), len(rows.audits)),
            _columns(rows.job), _columns(rows.customer), identities, _columns(rows.event))


def _params(rows: NewTicketRows) -> dict[str, Any]:
    params = {"team_slug": rows.team_slug}
    audits = ((f"a{i}_", entry) for i, entry in enumerate(rows.audits))
    identities = ((f"i{i}_", row) for i, row in enumerate(rows.identities))
    for prefix, values in (("t_", rows.ticket), ("m_", rows.message), *audits, *identities,
                           ("j_", rows.job or {}), ("c_", rows.customer or {}),
                           ("e_", rows.event or {})):
        params.update({prefix + name: value for name, value in values.items()})
    return params


def _binds(table: Table, prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: bindparam(prefix + name, type_=table.c[name].type) for name in names}


def _team_id() -> Any:
    return select(TEAMS.c.id).where(TEAMS.c.slug == bindparam("team_slug")).scalar_subquery()


def _selected(table: Table, prefix: str, names: tuple[str, ...]) -> list[Any]:
    return [bind.label(name) for name, bind in _binds(table, prefix, names).items()]


@functools.lru_cache(maxsize=32)
def _one_statement(shape: Shape) -> Select[Any]:
    (ticket_names, message_names, (audit_names, audits), job_names, customer_names,
     (identity_names, identities), event_names) = shape
    returned = (TICKETS.c.id, TICKETS.c.team_id, TICKETS.c.customer_id)
    identity_cte = None
    if customer_names is None:
        ticket = (insert(TICKETS).values(**_binds(TICKETS, "t_", ticket_names),
                                         team_id=_team_id()).returning(*returned))
    else:
        # ON CONFLICT DO NOTHING: a customer created meanwhile leaves this CTE, and so
        # everything selected from it below, empty; the caller finds them and retries.
        customer = (pg_insert(CUSTOMERS).values(**_binds(CUSTOMERS, "c_", customer_names))
                    .on_conflict_do_nothing().returning(CUSTOMERS.c.id).cte("new_customer"))
        values = select(*_selected(TICKETS, "t_", ticket_names), _team_id().label("team_id"),
                        customer.c.id.label("customer_id"))
        ticket = (insert(TICKETS)
                  .from_select([*ticket_names, "team_id", "customer_id"], values)
                  .returning(*returned))
        if identities:
            identity_cte = _new_identities(customer, identity_names, identities)
    new_ticket = ticket.cte("new_ticket")
    authored = () if "author_id" in message_names else (new_ticket.c.customer_id,)
    message = (insert(MESSAGES).from_select(
        ["ticket_id", *(["author_id"] if authored else []), *message_names],
        select(new_ticket.c.id, *authored, *_selected(MESSAGES, "m_", message_names)))
        .returning(MESSAGES.c.id, MESSAGES.c.ticket_id).cte("new_message"))
    # Selected FROM new_ticket, so they are written only with it. PostgreSQL runs every
    # data-modifying CTE even when the final SELECT does not read it; add_cte makes
    # SQLAlchemy render the ones it does not reference.
    audit_rows = union_all(*(select(*_selected(AUDIT, f"a{i}_", audit_names))
                             .select_from(new_ticket) for i in range(audits)))
    query: Select[Any] = (
        select(new_ticket.c.id, new_ticket.c.team_id, message.c.id, new_ticket.c.customer_id)
        .join_from(new_ticket, message, new_ticket.c.id == message.c.ticket_id)
        .add_cte(insert(AUDIT).from_select(list(audit_names), audit_rows).cte("new_audit")))
    if job_names is not None:
        job_row = select(*_selected(JOBS, "j_", job_names)).select_from(new_ticket)
        query = query.add_cte(insert(JOBS).from_select(list(job_names), job_row).cte("new_job"))
    if identity_cte is not None:
        query = query.add_cte(identity_cte)
    if event_names is not None:
        query = _with_event(query, new_ticket, event_names)
    return query


def _new_identities(customer: Any, names: tuple[str, ...], count: int) -> Any:
    """The new customer's identities, selected FROM its CTE: none when it wrote nothing."""
    rows = union_all(*(select(customer.c.id.label("customer_id"),
                              *_selected(IDENTITIES, f"i{i}_", names)) for i in range(count)))
    return insert(IDENTITIES).from_select(["customer_id", *names], rows).cte("new_identities")


def _with_event(query: Select[Any], new_ticket: Any, names: tuple[str, ...]) -> Select[Any]:
    """The desk feed's row, written with the ticket (one row: joining it keeps one)."""
    event = (insert(DESK_EVENTS).from_select(
        [*names, "team_id"],
        select(*_selected(DESK_EVENTS, "e_", names), new_ticket.c.team_id))
        .returning(DESK_EVENTS.c.id).cte("new_event"))
    return query.add_columns(event.c.id).join(event, true())


async def _in_one_statement(db: Database, rows: NewTicketRows) -> WrittenTicket | None:
    row = await first(db, _one_statement(_shape(rows)), _params(rows))
    return None if row is None else WrittenTicket(*row)


@functools.lru_cache(maxsize=4)
def _new_customer_sqlite(names: tuple[str, ...]) -> Executable:
    return (sqlite_insert(CUSTOMERS).values(**_binds(CUSTOMERS, "c_", names))
            .on_conflict_do_nothing().returning(CUSTOMERS.c.id))


@functools.lru_cache(maxsize=32)
def _separate_statements(shape: Shape) -> tuple[Executable, ...]:
    ticket_names, message_names, (audit_names, audits), job_names, _customer, _ids, \
        event_names = shape
    ticket = (insert(TICKETS).values(**_binds(TICKETS, "t_", ticket_names), team_id=_team_id())
              .returning(TICKETS.c.id, TICKETS.c.team_id))
    message = (insert(MESSAGES)
               .values(**_binds(MESSAGES, "m_", message_names), ticket_id=bindparam("ticket_id"))
               .returning(MESSAGES.c.id))
    audit = insert(AUDIT).values([_binds(AUDIT, f"a{i}_", audit_names) for i in range(audits)])
    event = () if event_names is None else (
        insert(DESK_EVENTS).values(**_binds(DESK_EVENTS, "e_", event_names),
                                   team_id=bindparam("team_id")).returning(DESK_EVENTS.c.id),)
    job = () if job_names is None else (insert(JOBS).values(**_binds(JOBS, "j_", job_names)),)
    return ticket, message, audit, *job, *event


async def _one_by_one(db: AsyncSession, rows: NewTicketRows) -> WrittenTicket | None:
    if rows.customer is not None:
        names = tuple(rows.customer)
        params = {f"c_{name}": value for name, value in rows.customer.items()}
        customer_id = (await db.execute(_new_customer_sqlite(names), params)).scalar()
        if customer_id is None:
            return None
        if rows.identities:
            await db.execute(insert(IDENTITIES),
                             [{**row, "customer_id": customer_id} for row in rows.identities])
        rows = dataclasses.replace(
            rows, customer=None, identities=(), ticket={**rows.ticket, "customer_id": customer_id},
            message={**rows.message, "author_id": customer_id})
    ticket, message, *rest = _separate_statements(_shape(rows))
    params = _params(rows)
    ticket_id, team_id = (await db.execute(ticket, params)).one()
    params["ticket_id"], params["team_id"] = ticket_id, team_id
    message_id = (await db.execute(message, params)).scalar_one()
    event_id = None
    for statement in rest:
        result = await db.execute(statement, params)
        if statement is rest[-1] and rows.event is not None:  # the feed's row, last
            event_id = result.scalar_one()
    return WrittenTicket(ticket_id, team_id, message_id, rows.ticket["customer_id"], event_id)
