"""The jobs table: committed with the change, retried with backoff, dead with its error,
claimed once under concurrency, and taken over after a crashed runner's lease expires."""

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from conftest import Desk
from kefu.core import jobs
from kefu.core.clock import utcnow

calls: dict[str, list[dict[str, Any]]] = {"flaky": [], "count": []}


@jobs.handler("test.flaky")
async def flaky(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    calls["flaky"].append(payload)
    raise RuntimeError("SMTP server said 451 try again")


@jobs.handler("test.count")
async def count(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    await asyncio.sleep(0.01)
    calls["count"].append(payload)


async def _job(desk: Desk, job_id: int) -> jobs.Job:
    async with desk.app.state.session_factory() as db:
        job = await db.get(jobs.Job, job_id)
        assert job is not None
        return job


async def _make_due(desk: Desk, job_id: int) -> None:
    async with desk.app.state.session_factory() as db:
        await db.execute(update(jobs.Job).where(jobs.Job.id == job_id)
                         .values(run_after=utcnow() - timedelta(seconds=1)))
        await db.commit()


async def test_rolled_back_change_leaves_no_job(desk: Desk) -> None:
    async with desk.app.state.session_factory() as db:
        job = jobs.enqueue(db, kind="test.count", payload={"n": -1})
        await db.flush()
        job_id = job.id
        await db.rollback()
    async with desk.app.state.session_factory() as db:
        assert await db.get(jobs.Job, job_id) is None


async def test_failing_job_backs_off_then_dies_with_its_error_and_can_be_retried(desk: Desk
                                                                                  ) -> None:
    async with desk.app.state.session_factory() as db:
        job = jobs.enqueue(db, kind="test.flaky", payload={"n": 1}, max_attempts=3)
        await db.commit()
        job_id = job.id
    ctx = jobs.JobContext(desk.settings, desk.app.state.session_factory)
    await jobs.run_pending(ctx)
    first = await _job(desk, job_id)
    assert first.status == "queued" and first.attempts == 1
    assert first.run_after > utcnow() + timedelta(seconds=1)  # backed off, not spinning
    assert "451" in (first.last_error or "")
    for _ in range(2):
        await _make_due(desk, job_id)
        await jobs.run_pending(ctx)
    dead = await _job(desk, job_id)
    assert dead.status == "dead" and dead.attempts == 3 and "451" in (dead.last_error or "")
    async with desk.app.state.session_factory() as db:
        await jobs.retry_job(db, job_id=job_id)
        await db.commit()
    assert (await _job(desk, job_id)).status == "queued"
    async with desk.app.state.session_factory() as db:  # leave nothing due for other tests
        await db.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(status="dead"))
        await db.commit()


async def test_concurrent_runners_run_each_job_exactly_once(desk: Desk) -> None:
    calls["count"].clear()
    async with desk.app.state.session_factory() as db:
        for n in range(30):
            jobs.enqueue(db, kind="test.count", payload={"n": n})
        await db.commit()
    ctx = jobs.JobContext(desk.settings, desk.app.state.session_factory)
    await asyncio.gather(*(jobs.run_pending(ctx) for _ in range(4)))
    seen = sorted(p["n"] for p in calls["count"])
    assert seen == list(range(30))


async def test_job_of_a_crashed_runner_is_taken_over_after_its_lease(desk: Desk) -> None:
    calls["count"].clear()
    async with desk.app.state.session_factory() as db:
        job = jobs.enqueue(db, kind="test.count", payload={"n": 99})
        await db.commit()
        job_id = job.id
        # A runner claimed it and died: status running, lease still valid.
        await db.execute(update(jobs.Job).where(jobs.Job.id == job_id).values(
            status="running", attempts=1, locked_until=utcnow() + timedelta(minutes=5)))
        await db.commit()
    ctx = jobs.JobContext(desk.settings, desk.app.state.session_factory)
    await jobs.run_pending(ctx)
    assert calls["count"] == []
    async with desk.app.state.session_factory() as db:
        await db.execute(update(jobs.Job).where(jobs.Job.id == job_id)
                         .values(locked_until=utcnow() - timedelta(seconds=1)))
        await db.commit()
    await jobs.run_pending(ctx)
    assert calls["count"] == [{"n": 99}]
    assert (await _job(desk, job_id)).status == "done"


async def test_unknown_job_kind_is_kept_not_dropped(desk: Desk) -> None:
    async with desk.app.state.session_factory() as db:
        job = jobs.enqueue(db, kind="test.nobody-handles-this", payload={}, max_attempts=1)
        await db.commit()
        job_id = job.id
    await desk.run_jobs()
    dead = await _job(desk, job_id)
    assert dead.status == "dead" and "no handler" in (dead.last_error or "")
    async with desk.app.state.session_factory() as db:
        rows = (await db.execute(select(jobs.Job).where(jobs.Job.id == job_id))).scalars().all()
    assert len(rows) == 1


@jobs.handler("test.slow")
async def slow(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    await asyncio.sleep(payload["seconds"])
    calls.setdefault("slow", []).append(payload)


async def test_a_long_job_keeps_its_lease_while_its_runner_lives(desk: Desk,
                                                                monkeypatch: Any) -> None:
    """The heartbeat renews the lease: a job running for several leases is never up for
    another runner to take while its own runner lives, and it runs once."""
    monkeypatch.setattr(jobs, "LEASE", timedelta(seconds=0.6))
    async with desk.app.state.session_factory() as db:
        job = jobs.enqueue(db, kind="test.slow", payload={"seconds": 2.0, "n": desk.backend})
        await db.commit()
        job_id = job.id
    ctx = jobs.JobContext(desk.settings, desk.app.state.session_factory)
    runner = asyncio.create_task(jobs.run_pending(ctx))  # other tests' due jobs run too
    for _ in range(200):
        if (await _job(desk, job_id)).status == "running":
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(1.2)  # two leases in: without renewal it would have run out
    running = await _job(desk, job_id)
    assert running.status == "running" and running.attempts == 1
    assert running.locked_until is not None and running.locked_until > utcnow()
    await runner
    done = await _job(desk, job_id)
    assert (done.status, done.attempts) == ("done", 1)
    assert [p["n"] for p in calls["slow"]].count(desk.backend) == 1
