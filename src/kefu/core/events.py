"""In-process events, delivered only after the transaction that caused them commits.

A lower layer that must cause something higher up emits an event; it never imports
upward. With Redis configured, the web layer can forward these to other processes.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

Subscriber = Callable[["Event"], None]
_PENDING_KEY = "kefu_pending_events"
_subscribers: dict[str, list[Subscriber]] = defaultdict(list)


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any] = field(default_factory=dict)


def subscribe(name: str, subscriber: Subscriber) -> None:
    if subscriber not in _subscribers[name]:
        _subscribers[name].append(subscriber)


def unsubscribe(name: str, subscriber: Subscriber) -> None:
    if subscriber in _subscribers[name]:
        _subscribers[name].remove(subscriber)


def emit(db: AsyncSession, name: str, **data: Any) -> None:
    """Queue an event on the session; it is delivered after commit, dropped on rollback."""
    db.sync_session.info.setdefault(_PENDING_KEY, []).append(Event(name, data))


def publish(item: Event) -> None:
    """Deliver now: for changes already committed (a statement run outside a session)."""
    for subscriber in list(_subscribers[item.name]):
        subscriber(item)


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    pending: list[Event] = session.info.pop(_PENDING_KEY, [])
    for item in pending:
        publish(item)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
