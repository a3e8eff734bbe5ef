"""POST /console/tickets/{ref}/presence: only an agent who may see the ticket announces
being on it; the announcement reaches the bus's subscribers and is never stored."""

from sqlalchemy import func, select

from conftest import Desk, agent_client, customer_client, reference_from, submit_ticket
from kefu.core import events
from kefu.tickets.feed import TICKET_PRESENCE, DeskEvent


async def _count_feed(desk: Desk) -> int:
    async with desk.app.state.session_factory() as db:
        return int((await db.execute(select(func.count()).select_from(DeskEvent))).scalar_one())


async def test_an_agent_on_a_ticket_is_announced_and_nothing_is_stored(desk: Desk) -> None:
    reference = reference_from(await submit_ticket(await customer_client(desk)))
    agent = await agent_client(desk)
    heard: list[events.Event] = []
    events.subscribe(TICKET_PRESENCE, heard.append)
    try:
        before = await _count_feed(desk)
        for state in ("viewing", "typing", "left"):
            answer = await agent.post(f"/console/tickets/{reference}/presence",
                                      data={"state": state})
            assert answer.status_code == 204, answer.text
        assert await _count_feed(desk) == before
    finally:
        events.unsubscribe(TICKET_PRESENCE, heard.append)
    assert [e.data["state"] for e in heard] == ["viewing", "typing", "left"]
    assert all(e.id is None and e.data["reference"] == reference for e in heard)
    assert heard[0].data["team_id"] is not None and heard[0].data["agent_name"]


async def test_what_may_not_announce_is_refused(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    bad = await agent.post(f"/console/tickets/{reference}/presence", data={"state": "dancing"})
    assert bad.status_code == 422
    missing = await agent.post("/console/tickets/KF-0000-0000-0000/presence",
                               data={"state": "viewing"})
    assert missing.status_code == 404
    as_customer = await customer.post(f"/console/tickets/{reference}/presence",
                                      data={"state": "viewing"})
    assert as_customer.status_code in (303, 401)
    anonymous = await desk.client().post(f"/console/tickets/{reference}/presence",
                                         data={"state": "viewing"})
    assert anonymous.status_code in (303, 401)


def test_a_presence_frame_carries_no_id_so_a_reconnect_resumes_after_the_feed() -> None:
    from kefu.web.live import _frame

    recorded = _frame(events.Event("ticket.message", {"reference": "KF-1"}, id=41))
    passing = _frame(events.Event(TICKET_PRESENCE, {"reference": "KF-1", "state": "typing"}))
    assert recorded.startswith("id: 41\n")
    assert "id:" not in passing and passing.startswith("event: desk\n")
