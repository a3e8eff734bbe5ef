"""A new ticket is written whole: ticket, first message, audit entries, notification job
and, for someone new, the customer; in one statement on PostgreSQL (on a session or
directly on the driver) and one by one elsewhere (tickets.writes)."""

import secrets
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Desk, unique_email
from kefu.contacts.models import ContactIdentity, Customer
from kefu.core.audit import AuditEntry, entry_values
from kefu.core.clock import utcnow
from kefu.core.db import Base
from kefu.core.driver import Database, direct
from kefu.core.jobs import Job, job_values
from kefu.tickets.models import Ticket, TicketMessage
from kefu.tickets.writes import (
    MESSAGES,
    TICKETS,
    NewTicketRows,
    WrittenTicket,
    insert_new_ticket,
    required_columns,
)


def _reference() -> str:
    return "KF-TEST-" + secrets.token_hex(5).upper()


def _rows(customer_id: int | None, reference: str, team: str, *, with_job: bool,
          audits: int = 1, new_email: str | None = None) -> NewTicketRows:
    now = utcnow()
    ticket = {"reference": reference, "subject": "s", "description": "d", "category": "other",
              "status": "new", "priority": "normal", "priority_rank": 1, "channel": "api",
              "created_at": now, "updated_at": now}
    message = {"author_type": "customer", "author_name": "x", "body": "d", "direction": "in",
               "channel": "api", "created_at": now}
    if customer_id is not None:
        ticket["customer_id"] = message["author_id"] = customer_id
    entries = tuple(entry_values(actor=("system", None), action=f"test.entry{i}",
                                 target=("ticket", reference), detail={"channel": "api"})
                    for i in range(audits))
    job = job_values(kind="email.send", payload={"to": "x@example.com", "ref": reference})
    customer = None if new_email is None else {
        "email": new_email, "uid": None, "name": "", "lang": "en", "created_at": now}
    identities = () if new_email is None else (
        {"kind": "email", "value": new_email, "verified": False, "created_at": now},)
    return NewTicketRows(ticket, team, message, entries, job if with_job else None, customer,
                         identities)


async def _count(db: AsyncSession, model: type[Base], column: Any, value: Any) -> int:
    return int((await db.execute(select(func.count()).select_from(model)
                                 .where(column == value))).scalar_one())


async def _customer(desk: Desk, email: str | None = None) -> int:
    async with desk.app.state.session_factory() as db:
        customer = Customer(email=email or unique_email(), created_at=utcnow())
        db.add(customer)
        await db.commit()
        return customer.id


async def _write(desk: Desk, rows: NewTicketRows) -> WrittenTicket | None:
    async with desk.app.state.session_factory() as db:
        written = await insert_new_ticket(db, rows)
        await db.commit()
    return written


async def _rows_of(desk: Desk, reference: str) -> tuple[int, int, int]:
    """How many tickets, audit entries and jobs name `reference`."""
    async with desk.app.state.session_factory() as db:
        jobs = (await db.execute(select(Job.payload).where(Job.kind == "email.send"))).scalars()
        return (await _count(db, Ticket, Ticket.reference, reference),
                await _count(db, AuditEntry, AuditEntry.target_id, reference),
                sum(p.get("ref") == reference for p in jobs))


async def test_every_row_of_a_new_ticket_is_written_together(desk: Desk) -> None:
    reference = _reference()
    customer_id = await _customer(desk)
    written = await _write(desk, _rows(customer_id, reference, "security", with_job=True,
                                       audits=2))
    assert written is not None and written.customer_id == customer_id
    async with desk.app.state.session_factory() as db:
        ticket = await db.get(Ticket, written.ticket_id)
        assert ticket is not None and ticket.reference == reference
        assert ticket.team is not None and ticket.team.slug == "security"
        assert written.team_id == ticket.team_id
        message = await db.get(TicketMessage, written.message_id)
        assert message is not None and message.ticket_id == ticket.id
    assert await _rows_of(desk, reference) == (1, 2, 1)


async def test_an_unknown_team_and_no_address_leave_those_parts_out(desk: Desk) -> None:
    reference = _reference()
    written = await _write(desk, _rows(await _customer(desk), reference, "no-such-team",
                                       with_job=False))
    assert written is not None and written.team_id is None
    assert await _rows_of(desk, reference) == (1, 1, 0)
    async with desk.app.state.session_factory() as db:
        assert await _count(db, TicketMessage, TicketMessage.id, written.message_id) == 1


async def test_a_failed_write_leaves_nothing_behind(desk: Desk) -> None:
    """A duplicate reference fails the statement: no message, audit or job of it remains."""
    reference = _reference()
    customer_id = await _customer(desk)
    async with desk.app.state.session_factory() as db:
        await insert_new_ticket(db, _rows(customer_id, reference, "general", with_job=True))
        await db.commit()
        with pytest.raises(IntegrityError):
            await insert_new_ticket(db, _rows(customer_id, reference, "general", with_job=True))
        await db.rollback()
    assert await _rows_of(desk, reference) == (1, 1, 1)


async def test_a_new_customer_is_written_with_their_ticket(desk: Desk) -> None:
    reference, email = _reference(), unique_email()
    written = await _write(desk, _rows(None, reference, "general", with_job=True,
                                       new_email=email))
    assert written is not None
    async with desk.app.state.session_factory() as db:
        customer = (await db.execute(select(Customer).where(Customer.email == email))).scalar_one()
        assert written.customer_id == customer.id
        ticket = await db.get(Ticket, written.ticket_id)
        message = await db.get(TicketMessage, written.message_id)
        assert ticket is not None and ticket.customer_id == customer.id
        assert message is not None and message.author_id == customer.id
        identity = (await db.execute(select(ContactIdentity).where(
            ContactIdentity.customer_id == customer.id))).scalar_one()
        assert (identity.kind, identity.value) == ("email", email)
    assert await _rows_of(desk, reference) == (1, 1, 1)


async def test_a_new_customer_whose_address_was_taken_writes_nothing(desk: Desk) -> None:
    email, reference = unique_email(), _reference()
    await _customer(desk, email)
    assert await _write(desk, _rows(None, reference, "general", with_job=True,
                                    new_email=email)) is None
    assert await _rows_of(desk, reference) == (0, 0, 0)


async def _write_direct(desk: Desk, rows: NewTicketRows) -> WrittenTicket | None:
    if desk.backend != "postgresql":
        pytest.skip("the direct path is PostgreSQL's")
    async with direct(desk.app.state.engine) as db:
        database: Database = db
        return await insert_new_ticket(database, rows)


async def test_directly_on_the_driver_the_statement_commits_by_itself(desk: Desk) -> None:
    reference, email = _reference(), unique_email()
    written = await _write_direct(desk, _rows(None, reference, "api", with_job=True,
                                              audits=2, new_email=email))
    assert written is not None and written.team_id is not None
    assert await _rows_of(desk, reference) == (1, 2, 1)


async def test_directly_a_failed_write_leaves_nothing_and_the_pool_works(desk: Desk) -> None:
    reference, email = _reference(), unique_email()
    customer_id = await _customer(desk)
    await _write_direct(desk, _rows(customer_id, reference, "api", with_job=True))
    with pytest.raises(Exception, match="uq_tickets_reference"):
        await _write_direct(desk, _rows(None, reference, "api", with_job=True,
                                        new_email=email))
    assert await _rows_of(desk, reference) == (1, 1, 1)
    async with desk.app.state.session_factory() as db:
        assert await _count(db, Customer, Customer.email, email) == 0
    assert await _write_direct(desk, _rows(customer_id, _reference(), "api",
                                           with_job=False)) is not None


_LEFT_TO_DEFAULTS = ("status", "priority", "priority_rank", "channel")


async def _minimal_ticket(desk: Desk, *, directly: bool) -> Ticket:
    """A ticket whose rows leave every column with a model default out."""
    rows = _rows(await _customer(desk), _reference(), "general", with_job=False)
    ticket = {k: v for k, v in rows.ticket.items() if k not in _LEFT_TO_DEFAULTS}
    rows = NewTicketRows(ticket, rows.team_slug, rows.message, rows.audits, None)
    written = await (_write_direct(desk, rows) if directly else _write(desk, rows))
    assert written is not None
    async with desk.app.state.session_factory() as db:
        row = await db.get(Ticket, written.ticket_id)
        assert row is not None
        return row


@pytest.mark.parametrize("directly", [False, True], ids=["session", "driver"])
async def test_columns_left_out_get_the_model_default_on_every_path(desk: Desk,
                                                                    directly: bool) -> None:
    """One writer: SQLite, PostgreSQL on a session and PostgreSQL on the driver all write
    the model's defaults, never NULL and never a backend's own idea of one."""
    ticket = await _minimal_ticket(desk, directly=directly)
    assert (ticket.status, ticket.priority, ticket.priority_rank, ticket.channel) == (
        "new", "normal", 1, "portal")


@pytest.mark.parametrize("table", [TICKETS, MESSAGES], ids=["tickets", "messages"])
async def test_a_row_without_a_required_column_is_refused_before_the_database(
        desk: Desk, table: Any) -> None:
    rows = _rows(await _customer(desk), _reference(), "general", with_job=False)
    required = sorted(required_columns(table) - {"ticket_id", "customer_id", "author_id"})
    assert required, "every table here has columns without a default"
    part = "ticket" if table is TICKETS else "message"
    values = getattr(rows, part)
    broken = {**rows.__dict__, part: {k: v for k, v in values.items() if k != required[0]}}
    with pytest.raises(ValueError, match=required[0]):
        await _write(desk, NewTicketRows(**broken))
