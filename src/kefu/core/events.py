"""In-process events, delivered only after the transaction that caused them commits.

A lower layer that must cause something higher up emits an event; it never imports
upward. Some events are also kept in the database (the desk feed, `kefu.tickets.feed`):
a domain registers a recorder, which writes the pending events it keeps in the same
transaction, just before commit, and gives each its row's id. After commit every event
goes to the subscribers here; the web layer's bus (`kefu.core.bus`) forwards the kept
ones to agents' browsers, across processes with Redis.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

Subscriber = Callable[["Event"], None]
# Writes the events it keeps (those without an id) in the session's transaction and
# returns the list with their ids set; the others are returned unchanged.
Recorder = Callable[[Session, list["Event"]], list["Event"]]
_PENDING_KEY = "kefu_pending_events"
_MARKS_KEY = "kefu_pending_marks"  # savepoint -> pending events before it
_subscribers: dict[str, list[Subscriber]] = defaultdict(list)
_recorders: list[Recorder] = []


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # the desk feed row's id, for events kept in the database


def subscribe(name: str, subscriber: Subscriber) -> None:
    if subscriber not in _subscribers[name]:
        _subscribers[name].append(subscriber)


def unsubscribe(name: str, subscriber: Subscriber) -> None:
    if subscriber in _subscribers[name]:
        _subscribers[name].remove(subscriber)


def add_recorder(recorder: Recorder) -> None:
    """Called once at import by the module that owns the rows (idempotent)."""
    if recorder not in _recorders:
        _recorders.append(recorder)


def emit(db: AsyncSession, name: str, **data: Any) -> None:
    """Queue an event on the session; it is delivered after commit, dropped on rollback."""
    emit_event(db, Event(name, data))


def emit_event(db: AsyncSession, item: Event) -> None:
    """As `emit`, for an event already built (one whose row was written, with its id)."""
    db.sync_session.info.setdefault(_PENDING_KEY, []).append(item)


def publish(item: Event) -> None:
    """Deliver now: for changes already committed (a statement run outside a session)."""
    for subscriber in list(_subscribers[item.name]):
        subscriber(item)


@event.listens_for(Session, "before_commit")
def _record(session: Session) -> None:
    # SQLAlchemy calls this for a released SAVEPOINT too; only the real commit records.
    if session.in_nested_transaction():
        return
    pending: list[Event] | None = session.info.get(_PENDING_KEY)
    if not pending or not _recorders:
        return
    # Flushed first, so a recorder reads the rows as they will commit (a ticket's team
    # after a move, say). Writing here is part of the same transaction: a failed write
    # fails the commit, and no event is published.
    session.flush()
    for recorder in _recorders:
        pending = recorder(session, pending)
    session.info[_PENDING_KEY] = pending


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: the transaction itself may still roll back
    pending: list[Event] = session.info.pop(_PENDING_KEY, [])
    for item in pending:
        publish(item)


@event.listens_for(Session, "after_transaction_create")
def _mark(session: Session, transaction: SessionTransaction) -> None:
    """Where a savepoint began in the pending list, so its rollback drops only its own."""
    if transaction.nested:
        session.info.setdefault(_MARKS_KEY, {})[transaction] = len(
            session.info.get(_PENDING_KEY, []))


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous: SessionTransaction) -> None:
    if previous.nested:
        mark = session.info.get(_MARKS_KEY, {}).pop(previous, None)
        if mark is not None:
            del session.info.get(_PENDING_KEY, [])[mark:]
    elif previous.parent is None:
        session.info.pop(_PENDING_KEY, None)
        session.info.pop(_MARKS_KEY, None)


def with_id(item: Event, event_id: int) -> Event:
    return replace(item, id=event_id)
