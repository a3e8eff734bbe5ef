"""A new ticket is written whole: ticket, first message, audit entry and notification job,
in one statement on PostgreSQL and one by one elsewhere (tickets.writes)."""

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Desk, unique_email
from kefu.contacts.service import contact_for_api
from kefu.core.clock import utcnow
from kefu.core.db import Base
from kefu.core.jobs import Job, job_values
from kefu.security.audit import AuditEntry, entry_values
from kefu.tickets.models import Ticket, TicketMessage
from kefu.tickets.writes import NewTicketRows, WrittenTicket, insert_new_ticket


def _rows(customer_id: int, reference: str, team: str, *, with_job: bool) -> NewTicketRows:
    now = utcnow()
    ticket = {"reference": reference, "customer_id": customer_id, "subject": "s",
              "description": "d", "category": "other", "status": "new", "priority": "normal",
              "priority_rank": 1, "channel": "api", "created_at": now, "updated_at": now}
    message = {"author_type": "customer", "author_id": customer_id, "author_name": "x",
               "body": "d", "internal": False, "created_at": now}
    audit = entry_values(actor=("system", None), action="ticket.created",
                         target=("ticket", reference), detail={"channel": "api"})
    job = job_values(kind="email.send", payload={"to": "x@example.com", "ref": reference})
    return NewTicketRows(ticket, team, message, audit, job if with_job else None)


async def _count(db: AsyncSession, model: type[Base], column: Any, value: Any) -> int:
    return int((await db.execute(select(func.count()).select_from(model)
                                 .where(column == value))).scalar_one())


async def _write(desk: Desk, reference: str, team: str, *, with_job: bool) -> WrittenTicket:
    async with desk.app.state.session_factory() as db:
        contact = await contact_for_api(db=db, email=unique_email(), uid=None)
        written = await insert_new_ticket(db, _rows(contact.id, reference, team,
                                                     with_job=with_job))
        await db.commit()
    return written


async def test_every_row_of_a_new_ticket_is_written_together(desk: Desk) -> None:
    reference = f"KF-TEST-{desk.backend[:4].upper()}-0001"
    written = await _write(desk, reference, "security", with_job=True)
    async with desk.app.state.session_factory() as db:
        ticket = await db.get(Ticket, written.ticket_id)
        assert ticket is not None and ticket.reference == reference
        assert ticket.team is not None and ticket.team.slug == "security"
        assert written.team_id == ticket.team_id
        message = await db.get(TicketMessage, written.message_id)
        assert message is not None and message.ticket_id == ticket.id
        assert await _count(db, AuditEntry, AuditEntry.target_id, reference) == 1
        jobs = (await db.execute(select(Job.payload).where(Job.kind == "email.send"))).scalars()
        assert sum(p.get("ref") == reference for p in jobs) == 1


async def test_an_unknown_team_and_no_address_leave_those_parts_out(desk: Desk) -> None:
    reference = f"KF-TEST-{desk.backend[:4].upper()}-0002"
    written = await _write(desk, reference, "no-such-team", with_job=False)
    assert written.team_id is None
    async with desk.app.state.session_factory() as db:
        jobs = (await db.execute(select(Job.payload).where(Job.kind == "email.send"))).scalars()
        assert not any(p.get("ref") == reference for p in jobs)
        assert await _count(db, TicketMessage, TicketMessage.id, written.message_id) == 1


async def test_a_failed_write_leaves_nothing_behind(desk: Desk) -> None:
    """A duplicate reference fails the statement: no message, audit or job of it remains."""
    reference = f"KF-TEST-{desk.backend[:4].upper()}-0003"
    async with desk.app.state.session_factory() as db:
        contact = await contact_for_api(db=db, email=unique_email(), uid=None)
        await insert_new_ticket(db, _rows(contact.id, reference, "general", with_job=True))
        await db.commit()
        with pytest.raises(IntegrityError):
            await insert_new_ticket(db, _rows(contact.id, reference, "general", with_job=True))
        await db.rollback()
    async with desk.app.state.session_factory() as db:
        assert await _count(db, Ticket, Ticket.reference, reference) == 1
        assert await _count(db, AuditEntry, AuditEntry.target_id, reference) == 1
