"""The desk feed: every ticket event, kept as a row written with the change itself.

The database is the feed's source of truth. A ticket verb emits `ticket.*` as before;
just before its transaction commits, `record` (an `kefu.core.events` recorder) writes
one `desk_events` row per event, with the ticket's team and assignee as they commit,
and the event carries the row's id from then on. The ticket-create writer
(`kefu.tickets.writes`) writes its row itself, inside its one statement, so the direct
PostgreSQL path has one too; an event that arrives with an id is not written again.

Live delivery (`kefu.core.bus`, `kefu.web.live`) is best effort; a browser that lost
its connection reads what it missed from here (`since`).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Index,
    Integer,
    String,
    Table,
    bindparam,
    delete,
    insert,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.db import Base, UTCDateTime
from kefu.tickets.models import Ticket

# The events kept in the feed and sent to agents' consoles.
TICKET_CREATED = "ticket.created"
TICKET_MESSAGE = "ticket.message"
TICKET_UPDATED = "ticket.updated"
FEED_EVENTS = frozenset({TICKET_CREATED, TICKET_MESSAGE, TICKET_UPDATED})
# An agent viewing or typing in a ticket: told to the other consoles live, never recorded
# (it is only true for a few seconds; a reconnecting console needs none of the old ones).
TICKET_PRESENCE = "ticket.presence"

# Ids come from a sequence and are drawn before commit, so two transactions can commit
# out of id order: a browser that saw id 11 may later need 10. A replay therefore also
# resends what was written shortly before the last event it saw; browsers skip ids they
# have seen. Ticket transactions last milliseconds; this is generous.
REPLAY_OVERLAP = timedelta(seconds=10)
MAX_REPLAY = 500  # more missed than this and the console reloads instead
# Replays need minutes of the feed; older rows are deleted (`prune`).
KEEP = timedelta(days=2)


class DeskEvent(Base):
    __tablename__ = "desk_events"
    __table_args__ = (Index("ix_desk_events_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(20))
    # Who may see it, as the ticket stood when the change committed (no foreign keys:
    # a log outlives the team or agent it names).
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


DESK_EVENTS = cast(Table, DeskEvent.__table__)
TICKETS = cast(Table, Ticket.__table__)


def row_values(name: str, reference: str, data: dict[str, Any],
               created_at: datetime) -> dict[str, Any]:
    """A row for writers that insert it with their own statement (team_id theirs to add)."""
    return {"name": name, "reference": reference, "assignee_id": None, "data": data,
            "created_at": created_at}


def to_event(row: DeskEvent | Any) -> events.Event:
    """The event as subscribers get it: the verb's data, the ticket and its scope."""
    return events.Event(row.name, {**row.data, "reference": row.reference,
                                   "team_id": row.team_id, "assignee_id": row.assignee_id},
                        id=row.id)


# One statement: the ticket's scope is read as it commits, in the same round trip.
_RECORD = (
    insert(DESK_EVENTS)
    .from_select(
        ["name", "reference", "team_id", "assignee_id", "data", "created_at"],
        select(bindparam("name", type_=DESK_EVENTS.c.name.type),
               TICKETS.c.reference, TICKETS.c.team_id, TICKETS.c.assignee_id,
               bindparam("data", type_=DESK_EVENTS.c.data.type),
               bindparam("created_at", type_=DESK_EVENTS.c.created_at.type))
        .where(TICKETS.c.reference == bindparam("reference")))
    .returning(DESK_EVENTS.c.id, DESK_EVENTS.c.team_id, DESK_EVENTS.c.assignee_id))


def record(session: Session, pending: list[events.Event]) -> list[events.Event]:
    """Write the feed's events that have no row yet; they come back with their ids."""
    kept: list[events.Event] = []
    for item in pending:
        if item.name not in FEED_EVENTS or item.id is not None:
            kept.append(item)
            continue
        data = {k: v for k, v in item.data.items()
                if k not in ("reference", "team_id", "assignee_id")}
        row = session.execute(_RECORD, {"name": item.name, "reference": item.data["reference"],
                                        "data": data, "created_at": utcnow()}).first()
        if row is None:  # the ticket is gone: nobody can open it, nothing to tell
            continue
        kept.append(events.Event(item.name, {**data, "reference": item.data["reference"],
                                             "team_id": row.team_id,
                                             "assignee_id": row.assignee_id}, id=row.id))
    return kept


events.add_recorder(record)


async def latest_id(db: AsyncSession) -> int:
    """The newest event's id (0 on an empty feed): where a new console starts."""
    newest = (await db.execute(select(DESK_EVENTS.c.id).order_by(DESK_EVENTS.c.id.desc())
                               .limit(1))).scalar()
    return int(newest or 0)


async def since(db: AsyncSession, last_id: int) -> Sequence[events.Event] | None:
    """What a console that saw `last_id` may have missed, oldest first (it skips ids it
    has); None when that is more than MAX_REPLAY events: it should reload instead."""
    seen_at = (await db.execute(select(DESK_EVENTS.c.created_at)
                                .where(DESK_EVENTS.c.id == last_id))).scalar()
    after = DESK_EVENTS.c.id > last_id
    condition = after if seen_at is None else or_(
        after, DESK_EVENTS.c.created_at >= seen_at - REPLAY_OVERLAP)
    rows = (await db.execute(select(DeskEvent).where(condition).order_by(DeskEvent.id)
                             .limit(MAX_REPLAY + 1))).scalars().all()
    if len(rows) > MAX_REPLAY:
        return None
    return [to_event(row) for row in rows]



async def prune(db: AsyncSession, *, keep: timedelta = KEEP) -> int:
    """Delete rows older than `keep` (the caller commits); returns how many. A console
    that last saw one of them reloads instead of replaying."""
    result = await db.execute(delete(DESK_EVENTS).where(DESK_EVENTS.c.created_at
                                                        < utcnow() - keep))
    return int(getattr(result, "rowcount", 0) or 0)
