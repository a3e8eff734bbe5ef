"""The customer an integrator names when creating a ticket through the API: found by
email, then UID (contacts.service.contact_for_api), or written with the ticket."""

import asyncio
import secrets

import httpx
import pytest
from sqlalchemy import select

from conftest import Desk, make_agent, unique_email
from kefu.accounts import service as accounts
from kefu.contacts.models import Customer
from kefu.contacts.service import contact_for_api
from kefu.core.errors import InvalidInput
from kefu.tickets.models import Ticket

BODY = {"category": "account", "subject": "Cannot log in", "description": "Locked out."}


async def _api(desk: Desk) -> httpx.AsyncClient:
    async with desk.app.state.session_factory() as db:
        agent = await accounts.agent_by_email(db=db, email=await make_agent(desk))
        assert agent is not None
        _, secret = await accounts.create_api_token(db=db, actor=agent, name="crm",
                                                    scopes=["tickets:write"])
        await db.commit()
    api = desk.client()
    api.headers["authorization"] = f"Bearer {secret}"
    return api


async def _contact(desk: Desk, email: str | None, uid: str | None,
                   api: httpx.AsyncClient | None = None) -> int:
    """The customer id of a ticket created for `email` / `uid`."""
    named = {"contact_email": email} if email else {}
    response = await (api or await _api(desk)).post(
        "/api/v1/tickets", json={**BODY, **named, **({"contact_uid": uid} if uid else {})})
    assert response.status_code == 201, response.text
    async with desk.app.state.session_factory() as db:
        return (await db.execute(select(Ticket.customer_id).where(
            Ticket.reference == response.json()["reference"]))).scalar_one()


def _uid() -> str:
    return str(secrets.randbelow(10**9))


async def test_the_same_address_names_the_same_customer(desk: Desk) -> None:
    email = unique_email()
    first = await _contact(desk, email, None)
    assert await _contact(desk, f"  {email.upper()} ", None) == first
    assert await _contact(desk, unique_email(), None) != first
    async with desk.app.state.session_factory() as db:
        customer = await db.get(Customer, first)
        assert customer is not None and customer.email == email and customer.lang == "en"


async def test_a_uid_names_a_customer_when_the_address_does_not(desk: Desk) -> None:
    uid = _uid()
    by_uid = await _contact(desk, None, uid)
    assert await _contact(desk, unique_email(), uid) == by_uid


async def test_the_address_wins_over_a_uid_of_someone_else(desk: Desk) -> None:
    email, uid = unique_email(), _uid()
    with_email = await _contact(desk, email, None)
    with_uid = await _contact(desk, None, uid)
    assert with_email != with_uid
    assert await _contact(desk, email, uid) == with_email


async def test_concurrent_requests_for_a_new_address_agree(desk: Desk) -> None:
    """All but one find the customer written meanwhile and retry with them."""
    email, api = unique_email(), await _api(desk)
    ids = await asyncio.gather(*(_contact(desk, email, None, api) for _ in range(12)))
    assert len(set(ids)) == 1


async def test_someone_new_is_not_written_by_the_lookup(desk: Desk) -> None:
    email = unique_email()
    async with desk.app.state.session_factory() as db:
        contact = await contact_for_api(db=db, email=email, uid=None)
        assert contact.id is None and contact.email == email
        assert (await db.execute(select(Customer).where(Customer.email == email))).first() is None


async def test_nothing_to_name_a_customer_by_is_refused(desk: Desk) -> None:
    async with desk.app.state.session_factory() as db:
        with pytest.raises(InvalidInput):
            await contact_for_api(db=db, email=None, uid=None)
