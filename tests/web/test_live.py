"""The live console's stream (/console/events): who may open it, what each one gets,
and a reconnect that catches up from the desk feed.

Refusals are answered before any stream opens, so they go through the in-process
client on both backends; streams need a real server (`e2e_support.kefu_process`)."""

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from conftest import TICKET_FORM, Desk, agent_client, customer_client, reference_from, submit_ticket
from e2e.e2e_support import EventStream, Frame, Server, kefu_process, signed_in
from kefu.accounts.models import Role
from kefu.web.live import RECHECK_SECONDS

AGENT = "agent@kefu.local"  # general team
SECURITY_AGENT = "security@kefu.local"
ADMIN = "admin@kefu.local"


async def test_without_an_agent_session_nothing_opens(desk: Desk) -> None:
    async with desk.client() as anonymous:
        response = await anonymous.get("/console/events")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    customer = await customer_client(desk)
    response = await customer.get("/console/events")  # a customer session is no agent's
    assert response.status_code == 401
    # Nor does a customer's session token sent under the agent cookie's name.
    token = next(iter(customer.cookies.values()))
    async with desk.client() as forged:
        forged.cookies.set("kefu_agent", token)
        assert (await forged.get("/console/events")).status_code == 401


async def test_foreign_origin_and_foreign_team_are_refused(desk: Desk) -> None:
    agent = await agent_client(desk, role=Role.AGENT, team="general")
    response = await agent.get("/console/events", headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    for team in ("security", "all", "no-such-team", "x" * 5000):
        response = await agent.get("/console/events", params={"team": team})
        assert response.status_code == 403, team


@pytest.mark.parametrize("last", ["abc", "-1", "1.5", "9" * 40, "١٢", "1\x00"])
async def test_a_bad_last_event_id_is_a_clear_error(desk: Desk, last: str) -> None:
    agent = await agent_client(desk)
    if last.isascii() and "\x00" not in last:
        response = await agent.get("/console/events", headers={"last-event-id": last})
        assert response.status_code == 400
    response = await agent.get("/console/events", params={"since": last})  # a page's start
    assert response.status_code == 400
    assert "Last-Event-ID" in response.json()["detail"]


async def test_fragments_follow_access(desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))  # a deposits-team ticket
    general = await agent_client(desk, team="deposits")
    row = await general.get(f"/console/live/rows/{reference}")
    assert row.status_code == 200 and f'data-ref="{reference}"' in row.text
    assert (await general.get(f"/console/live/rows/{reference}",
                              params={"view": "resolved"})).status_code == 204
    thread = await general.get(f"/console/live/tickets/{reference}/messages",
                               params={"after": 0})
    assert thread.status_code == 200 and thread.text.count('class="message') == 1
    assert (await general.get(f"/console/live/tickets/{reference}/messages",
                              params={"after": 1})).text.strip() == ""
    assert (await general.get(f"/console/live/tickets/{reference}/messages",
                              params={"after": "x"})).status_code == 422
    security = await agent_client(desk, team="security")
    assert (await security.get(f"/console/live/rows/{reference}")).status_code == 204
    assert (await security.get(
        f"/console/live/tickets/{reference}/messages")).status_code == 404


# --- streams, on a real server ---------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with kefu_process(tmp_path_factory.mktemp("live")) as running:
        yield running


def customer_session(server: Server, email: str) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, timeout=30)
    response = client.post("/portal/signup", data={
        "email": email, "password": "a long enough password", "name": "Trader"})
    assert response.status_code == 303, response.text
    return client


def file_ticket(customer: httpx.Client, **fields: str) -> str:
    response = customer.post("/portal/tickets/new", data={**TICKET_FORM, **fields})
    assert response.status_code == 303, response.text
    return response.headers["location"].split("/portal/tickets/")[1].split("?")[0]


def reply(customer: httpx.Client, reference: str, body: str) -> None:
    response = customer.post(f"/portal/tickets/{reference}/reply", data={"body": body})
    assert response.status_code == 303, response.text


def about(reference: str, name: str) -> Callable[[Frame], bool]:
    return lambda frame: frame.data.get("reference") == reference and frame.data["name"] == name


def test_each_agent_gets_what_their_inbox_shows(server: Server) -> None:
    general = EventStream(signed_in(server, AGENT), "/console/events")
    security = EventStream(signed_in(server, SECURITY_AGENT), "/console/events")
    everyone = EventStream(signed_in(server, ADMIN), "/console/events?team=all")
    try:
        assert general.status == security.status == everyone.status == 200
        customer = customer_session(server, "scope-trader@example.com")
        deposit = file_ticket(customer, subject="Scope: deposit")  # routed to general
        hacked = file_ticket(customer, category="security", subject="Scope: account taken")
        general.until(about(deposit, "ticket.created"))
        security.until(about(hacked, "ticket.created"))
        seen_by_all = everyone.until(about(hacked, "ticket.created"))
        assert any(f.data.get("reference") == deposit for f in seen_by_all)
        # Neither agent hears of the other team's ticket.
        assert all(f.data.get("reference") != hacked for f in general.drain())
        assert all(f.data.get("reference") != deposit for f in security.drain())
    finally:
        for stream in (general, security, everyone):
            stream.close()


def test_a_reconnect_catches_up_without_loss_or_repeat(server: Server) -> None:
    agent = signed_in(server, AGENT)
    customer = customer_session(server, "reconnect-trader@example.com")
    first = EventStream(agent, "/console/events")
    try:
        reference = file_ticket(customer, subject="Reconnect: first")
        last = first.until(about(reference, "ticket.created"))[-1]
    finally:
        first.close()
    assert isinstance(last.id, int)

    # While nobody listens: two new tickets and a reply.
    missed = [file_ticket(customer, subject="Reconnect: second"),
              file_ticket(customer, subject="Reconnect: third")]
    reply(customer, reference, "Any news on this one?")

    again = EventStream(agent, "/console/events", {"last-event-id": str(last.id)})
    try:
        replayed = again.drain(quiet=1.5)
        later = file_ticket(customer, subject="Reconnect: live again")
        live = again.until(about(later, "ticket.created"))
    finally:
        again.close()
    frames = replayed + live
    ids = [f.id for f in frames]
    assert len(ids) == len(set(ids)), f"an id was sent twice on one connection: {ids}"
    new = [f for f in frames if f.id is not None and f.id > last.id]
    assert [(f.data["name"], f.data["reference"]) for f in new] == [
        ("ticket.created", missed[0]), ("ticket.created", missed[1]),
        ("ticket.message", reference), ("ticket.created", later)]
    assert [f.id for f in new] == sorted(f.id for f in new)
    # Besides those, only the overlap the browser skips: ids it saw, none older than it.
    overlap = [f for f in frames if f not in new]
    assert all(f.id is not None and f.id <= last.id for f in overlap)


def test_a_page_starts_where_it_was_rendered(server: Server) -> None:
    agent = signed_in(server, AGENT)
    customer = customer_session(server, "since-trader@example.com")
    page = agent.get("/console")
    since = int(page.text.split('data-live-since="')[1].split('"')[0])
    reference = file_ticket(customer, subject="Since: before the stream opened")
    stream = EventStream(agent, f"/console/events?since={since}")
    try:
        stream.until(about(reference, "ticket.created"))
    finally:
        stream.close()


def test_signing_out_ends_an_open_stream(server: Server) -> None:
    agent = signed_in(server, AGENT)
    customer = customer_session(server, "signout-trader@example.com")
    stream = EventStream(agent, "/console/events")
    try:
        before = file_ticket(customer, subject="Sign-out: before")
        stream.until(about(before, "ticket.created"))
        kept = httpx.Client(base_url=server.base_url, cookies=dict(agent.cookies))
        assert agent.post("/console/logout").status_code == 303
        time.sleep(RECHECK_SECONDS + 0.5)
        after = file_ticket(customer, subject="Sign-out: after")
        assert all(f.data.get("reference") != after for f in stream.drain(quiet=2.0))
        assert stream.ended
    finally:
        stream.close()
    again = EventStream(kept, "/console/events")  # the old cookie, revoked on the server
    assert again.status == 401
    again.close()
