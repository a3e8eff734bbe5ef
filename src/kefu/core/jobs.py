"""The jobs table: durable work written in the same transaction as the change (outbox).

A job is claimed by exactly one runner (SKIP LOCKED on PostgreSQL, a conditional update
everywhere), retried with exponential backoff when its handler raises, and finally
marked dead with its error. A runner that crashes leaves the job `running` with an
expired lease, and the next runner takes it again, so nothing is lost.

The lease is short and renewed while the handler runs (a heartbeat every third of it),
so a long job keeps its lease while its runner lives, and the job of a runner killed
mid-way is taken over within one lease (a minute), not after minutes of waiting.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import JSON, Index, Integer, String, Text, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core import events
from kefu.core.clock import utcnow
from kefu.core.db import Base, UTCDateTime, dialect_name
from kefu.core.settings import Settings

log = structlog.get_logger(__name__)
LEASE = timedelta(minutes=1)
MAX_BACKOFF_SECONDS = 3600
JOB_ENQUEUED = "jobs.enqueued"


UNFINISHED = "status IN ('queued', 'running')"
DEAD = "status = 'dead'"


class Job(Base):
    __tablename__ = "jobs"
    # Partial indexes: a job enters the runners' index while it is due and the admin's
    # while it is dead. Every ticket create writes a job, and done jobs pile up; indexes
    # on every job's kind, status and run_after cost each write and served no query.
    __table_args__ = (
        Index("ix_jobs_due", "run_after", "id", postgresql_where=text(UNFINISHED),
              sqlite_where=text(UNFINISHED)),
        Index("ix_jobs_dead", "id", postgresql_where=text(DEAD), sqlite_where=text(DEAD)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]


Handler = Callable[[dict[str, Any], JobContext], Awaitable[None]]
_handlers: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return register


def enqueue(
    db: AsyncSession, *, kind: str, payload: dict[str, Any], max_attempts: int = 8,
    delay: timedelta = timedelta(0),
) -> Job:
    """Add a job to the caller's transaction; it exists only if that transaction commits.
    It runs no sooner than `delay` after now."""
    job = Job(**job_values(kind=kind, payload=payload, max_attempts=max_attempts))
    job.run_after = job.created_at + delay
    db.add(job)
    announce(db, kind)
    return job


def job_values(*, kind: str, payload: dict[str, Any], max_attempts: int = 8) -> dict[str, Any]:
    """The columns of a new queued job, for writers that insert it with their own statement
    (in the caller's transaction, followed by `announce`)."""
    now = utcnow()
    return {"kind": kind, "payload": payload, "status": "queued", "attempts": 0,
            "max_attempts": max_attempts, "run_after": now, "created_at": now}


def announce(db: AsyncSession, kind: str) -> None:
    """Wake the runners once the transaction that wrote a `kind` job commits."""
    events.emit(db, JOB_ENQUEUED, kind=kind)


def enqueued_event(kind: str) -> events.Event:
    """What `announce` queues, for writers that deliver their events themselves."""
    return events.Event(JOB_ENQUEUED, {"kind": kind})


def backoff_seconds(attempts: int) -> int:
    return int(min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 12)))


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int  # this claim's attempt number: a renewal must not touch a later claim


async def _keep_lease(ctx: "JobContext", job: Claimed) -> None:
    """Renew the running job's lease every third of it until cancelled. A renewal that
    finds the job no longer ours (its lease ran out and another runner took it) stops."""
    while True:
        await asyncio.sleep(LEASE.total_seconds() / 3)
        try:
            async with ctx.session_factory() as db:
                renewed = await db.execute(
                    update(Job).where(Job.id == job.id, Job.status == "running",
                                      Job.attempts == job.attempt)
                    .values(locked_until=utcnow() + LEASE))
                await db.commit()
        except Exception as exc:  # the database away for a moment: try at the next beat
            log.warning("job_lease_not_renewed", job_id=job.id, error=str(exc))
            continue
        if renewed.rowcount != 1:  # type: ignore[attr-defined]
            log.warning("job_lease_lost", job_id=job.id, kind=job.kind)
            return


async def _claim(db: AsyncSession, now: datetime) -> Claimed | None:
    due = or_(
        (Job.status == "queued") & (Job.run_after <= now),
        (Job.status == "running") & (Job.locked_until < now),
    )
    query = select(Job).where(due).order_by(Job.run_after, Job.id).limit(1)
    if dialect_name(db) == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = (await db.execute(query)).scalar_one_or_none()
    if job is None:
        await db.rollback()
        return None
    # Read before the update, which also refreshes the loaded row (synchronize_session).
    result = Claimed(job.id, job.kind, dict(job.payload), job.attempts + 1)
    # The conditional update makes the claim safe where SKIP LOCKED does not exist.
    claimed = await db.execute(
        update(Job)
        .where(Job.id == job.id, Job.status == job.status, Job.attempts == job.attempts)
        .values(status="running", attempts=job.attempts + 1, locked_until=now + LEASE)
    )
    await db.commit()
    return result if claimed.rowcount == 1 else None  # type: ignore[attr-defined]


async def _finish(db: AsyncSession, job_id: int, error: BaseException | None) -> None:
    job = await db.get(Job, job_id)
    if job is None:
        return
    now = utcnow()
    if error is None:
        job.status, job.finished_at, job.locked_until = "done", now, None
    elif job.attempts >= job.max_attempts:
        job.status, job.finished_at, job.locked_until = "dead", now, None
        job.last_error = f"{type(error).__name__}: {error}"[:2000]
    else:
        job.status, job.locked_until = "queued", None
        job.run_after = now + timedelta(seconds=backoff_seconds(job.attempts))
        job.last_error = f"{type(error).__name__}: {error}"[:2000]
    await db.commit()


async def run_one(ctx: JobContext) -> bool:
    """Claim and run one due job. Returns False when none was due.

    No transaction is held while the handler runs: handlers open their own sessions, and
    an idle transaction would pin a connection (and on SQLite, the only one).
    """
    async with ctx.session_factory() as db:
        job = await _claim(db, utcnow())
    if job is None:
        return False
    fn = _handlers.get(job.kind)
    error: BaseException | None = None
    heartbeat = asyncio.create_task(_keep_lease(ctx, job))
    try:
        if fn is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        await fn(job.payload, ctx)
    except Exception as exc:  # a failing job must never kill the runner
        error = exc
        log.warning("job_failed", job_id=job.id, kind=job.kind, error=str(exc))
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
    async with ctx.session_factory() as db:
        await _finish(db, job.id, error)
    return True


async def run_pending(ctx: JobContext, *, limit: int = 1000) -> int:
    """Run due jobs until none is left (or `limit`); used by tests and the CLI."""
    count = 0
    while count < limit and await run_one(ctx):
        count += 1
    return count


async def retry_job(db: AsyncSession, *, job_id: int) -> None:
    """Put a dead job back in the queue (admin action)."""
    await db.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "dead")
        .values(status="queued", attempts=0, run_after=utcnow(), finished_at=None)
    )


class Runner:
    """Polls the jobs table; woken early when a job is enqueued in this process."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()

    def _on_enqueued(self, _event: events.Event) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        events.subscribe(JOB_ENQUEUED, self._on_enqueued)
        try:
            while not self._stop.is_set():
                try:
                    await run_pending(self.ctx, limit=100)
                except Exception as exc:  # database away: wait and try again
                    log.error("job_runner_error", error=str(exc))
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.ctx.settings.job_poll_seconds)
        finally:
            events.unsubscribe(JOB_ENQUEUED, self._on_enqueued)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
