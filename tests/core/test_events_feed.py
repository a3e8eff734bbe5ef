"""The desk feed: each ticket event is a desk_events row written in the same transaction
as the change, and is published after commit with that row's id, on every write path
(the session, and on PostgreSQL the API create's one statement on the driver)."""

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from conftest import Desk, agent_client, customer_client, reference_from, submit_ticket
from kefu.accounts.models import Role, Team
from kefu.core import events
from kefu.tickets.feed import FEED_EVENTS, DeskEvent

NEW_TICKET = {"category": "api", "subject": "Signature invalid on /api/v3/order",
              "description": "Every signed request returns 40102 since this morning.",
              "contact_email": "feed@example.com"}


async def make_api(desk: Desk) -> httpx.AsyncClient:
    admin = await agent_client(desk, role=Role.ADMIN)
    page = await admin.post("/admin/tokens", data={
        "name": "feed", "scopes": ["tickets:read", "tickets:write"]})
    api = desk.client()
    api.headers["authorization"] = "Bearer " + page.text.split('id="new-token">')[1].split("<")[0]
    return api


@pytest.fixture
def heard() -> Iterator[list[events.Event]]:
    got: list[events.Event] = []
    for name in FEED_EVENTS:
        events.subscribe(name, got.append)
    yield got
    for name in FEED_EVENTS:
        events.unsubscribe(name, got.append)


async def _rows(desk: Desk, reference: str) -> list[DeskEvent]:
    async with desk.app.state.session_factory() as db:
        query = select(DeskEvent).where(DeskEvent.reference == reference).order_by(DeskEvent.id)
        return list((await db.execute(query)).scalars())


async def _count(desk: Desk) -> int:
    async with desk.app.state.session_factory() as db:
        return int((await db.execute(select(func.count(DeskEvent.id)))).scalar_one())


def _about(heard: list[events.Event], reference: str) -> list[events.Event]:
    return [e for e in heard if e.data.get("reference") == reference]


async def test_every_write_path_keeps_its_events(desk: Desk, heard: list[events.Event]) -> None:
    api = await make_api(desk)
    created = await api.post("/api/v1/tickets", json=NEW_TICKET)
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]  # on PostgreSQL: the direct, one-statement path
    customer = await customer_client(desk)
    portal = reference_from(await submit_ticket(customer))  # the session path
    for ref in (reference, portal):
        rows = await _rows(desk, ref)
        assert [r.name for r in rows] == ["ticket.created"]
        published = _about(heard, ref)
        assert [(e.name, e.id) for e in published] == [("ticket.created", rows[0].id)]
        assert published[0].data["team_id"] == rows[0].team_id is not None

    agent = await agent_client(desk, team="api")
    response = await agent.post(f"/console/tickets/{reference}/update",
                                data={"status": "open", "priority": "high"})
    assert response.status_code == 303
    rows = await _rows(desk, reference)
    assert [r.name for r in rows] == ["ticket.created", "ticket.updated", "ticket.updated"]
    assert sorted(str(r.data) for r in rows[1:]) == [str({"priority": "high"}),
                                                     str({"status": "open"})]
    assert [e.id for e in _about(heard, reference)] == [r.id for r in rows]


async def test_a_move_tells_the_team_it_left(desk: Desk, heard: list[events.Event]) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))  # deposits
    supervisor = await agent_client(desk, role=Role.SUPERVISOR)
    response = await supervisor.post(f"/console/tickets/{reference}/update",
                                     data={"team": "compliance"})
    assert response.status_code == 303
    moved = _about(heard, reference)[-1]
    async with desk.app.state.session_factory() as db:
        teams = {t.slug: t.id for t in (await db.execute(select(Team))).scalars()}
    assert moved.data["team_id"] == teams["compliance"]
    assert moved.data["was_team_id"] == teams["deposits"]


async def test_a_refused_change_leaves_no_event(desk: Desk, heard: list[events.Event]) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    closed = await agent.post(f"/console/tickets/{reference}/update", data={"status": "closed"})
    assert closed.status_code == 303
    before, heard_before = await _count(desk), len(heard)
    # Closed is final: the change is refused and its transaction rolled back.
    refused = await agent.post(f"/console/tickets/{reference}/update", data={"status": "open"})
    assert refused.status_code == 422
    reply = await customer.post(f"/portal/tickets/{reference}/reply", data={"body": "hello?"})
    assert reply.status_code in (200, 422)
    assert await _count(desk) == before and len(heard) == heard_before


async def test_old_rows_are_pruned(desk: Desk) -> None:
    from datetime import timedelta

    from kefu.tickets import feed

    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    (row,) = await _rows(desk, reference)
    async with desk.app.state.session_factory() as db:
        assert await feed.prune(db) == 0  # fresh rows stay
        await db.commit()
        assert [e.id for e in await feed.since(db, row.id - 1) or []][-1] >= row.id
        assert await feed.prune(db, keep=timedelta(seconds=-1)) >= 1  # as if two days on
        await db.commit()
        assert await _count(desk) == 0
        assert await feed.since(db, row.id - 1) == []
        assert await feed.latest_id(db) == 0


async def test_too_much_to_replay_means_reload(desk: Desk, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    from kefu.tickets import feed

    customer = await customer_client(desk)
    async with desk.app.state.session_factory() as db:
        start = await feed.latest_id(db)
    for _ in range(3):
        await submit_ticket(customer)
    async with desk.app.state.session_factory() as db:
        replay = await feed.since(db, start)
        assert replay is not None and len([e for e in replay if (e.id or 0) > start]) == 3
        monkeypatch.setattr(feed, "MAX_REPLAY", 2)
        assert await feed.since(db, start) is None  # the stream says "reset"
