"""A message the channel sends twice is stored once: (channel, external id) is unique.

An integrator retrying after a timeout, or a customer double-clicking Submit, opens one
ticket; and every ticket shows the channel and the customer's address it came by."""

import asyncio

from conftest import NEW_TICKET, Desk, agent_client, customer_client, make_token, unique_email


async def test_an_api_retry_with_the_same_id_returns_the_first_ticket(desk: Desk) -> None:
    api, _ = await make_token(desk)
    body = {**NEW_TICKET, "contact_email": unique_email(), "external_id": "crm-42-" + desk.backend}
    first = await api.post("/api/v1/tickets", json=body)
    again = await api.post("/api/v1/tickets", json=body)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["reference"] == first.json()["reference"]
    listing = await api.get("/api/v1/tickets", params={"q": body["contact_email"]})
    assert listing.json()["total"] == 1


async def test_concurrent_sends_of_one_request_open_one_ticket(desk: Desk) -> None:
    api, _ = await make_token(desk)
    email = unique_email()
    body = {**NEW_TICKET, "contact_email": email, "external_id": "burst-" + unique_email()}
    answers = await asyncio.gather(*(api.post("/api/v1/tickets", json=body) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["reference"] for a in answers}) == 1
    listing = await api.get("/api/v1/tickets", params={"q": email})
    assert listing.json()["total"] == 1


async def test_an_integrators_ids_are_its_own(desk: Desk) -> None:
    """Another token sending the same id opens its own ticket and never sees the first."""
    first_api, _ = await make_token(desk)
    second_api, _ = await make_token(desk)
    body = {**NEW_TICKET, "contact_email": unique_email(), "external_id": "order-7"}
    first = await first_api.post("/api/v1/tickets", json=body)
    other = await second_api.post("/api/v1/tickets", json=body)
    assert (first.status_code, other.status_code) == (201, 201)
    assert first.json()["reference"] != other.json()["reference"]


async def test_a_different_id_or_none_opens_a_new_ticket(desk: Desk) -> None:
    api, _ = await make_token(desk)
    email = unique_email()
    for external_id in ("a-" + email, "b-" + email, None):
        body = {**NEW_TICKET, "contact_email": email, "external_id": external_id}
        assert (await api.post("/api/v1/tickets", json=body)).status_code == 201
    assert (await api.get("/api/v1/tickets", params={"q": email})).json()["total"] == 3


async def test_a_bad_external_id_is_refused_with_422(desk: Desk) -> None:
    api, _ = await make_token(desk)
    body = {**NEW_TICKET, "contact_email": unique_email(), "external_id": "x" * 201}
    assert (await api.post("/api/v1/tickets", json=body)).status_code == 422


async def test_the_portal_form_sent_twice_opens_one_ticket(desk: Desk) -> None:
    email = unique_email()
    customer = await customer_client(desk, email=email)
    form = await customer.get("/portal/tickets/new")
    request_id = form.text.split('name="request_id" value="')[1].split('"')[0]
    assert len(request_id) >= 16
    data = {"category": "account", "subject": "Locked out", "description": "Cannot log in.",
            "request_id": request_id}
    first = await customer.post("/portal/tickets/new", data=data)
    again = await customer.post("/portal/tickets/new", data=data)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"].split("?")[0] == again.headers["location"].split("?")[0]
    mine = await customer.get("/portal/tickets")
    assert mine.text.count("Locked out") == 1


async def test_a_ticket_shows_its_channel_and_the_address_it_came_by(desk: Desk) -> None:
    api, _ = await make_token(desk)
    email = unique_email()
    created = (await api.post("/api/v1/tickets", json={**NEW_TICKET, "contact_email": email}))
    ticket = created.json()
    assert (ticket["channel"], ticket["identity_kind"], ticket["identity_value"]) == (
        "api", "email", email)
    assert ticket["messages"][0]["direction"] == "in"
    assert ticket["messages"][0]["channel"] == "api"
    agent = await agent_client(desk, team="api")
    page = await agent.get(f"/console/tickets/{ticket['reference']}")
    assert "via API" in page.text and email in page.text
    no_email = {k: v for k, v in NEW_TICKET.items() if k != "contact_email"}
    by_uid = await api.post("/api/v1/tickets", json={
        **no_email, "contact_uid": "88001122", "channel": "email"})
    assert (by_uid.json()["identity_kind"], by_uid.json()["identity_value"]) == (
        "uid", "88001122")
