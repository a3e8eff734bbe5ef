"""A customer's addresses on every channel live in contact_identities: sign-up, the
exchange's signed UID and an integrator's new contact all write one, lookups go through
them, and merging two customers moves every address and ticket to the one kept."""

import pytest
from sqlalchemy import select

from conftest import (
    NEW_TICKET,
    Desk,
    customer_client,
    make_token,
    reference_from,
    sso_customer_client,
    submit_ticket,
    unique_email,
)
from kefu.contacts import identities
from kefu.contacts.models import ContactIdentity, Customer
from kefu.core.errors import Conflict, InvalidInput
from kefu.tickets.models import Ticket


async def _identities(desk: Desk, customer_id: int) -> set[tuple[str, str, bool]]:
    async with desk.app.state.session_factory() as db:
        rows = await identities.identities_of(db=db, customer_id=customer_id)
        return {(r.kind, r.value, r.verified) for r in rows}


async def _customer(desk: Desk, kind: str, value: str) -> Customer:
    async with desk.app.state.session_factory() as db:
        found = await identities.find_customer(db=db, kind=kind, value=value)
        assert found is not None, (kind, value)
        return found


async def test_every_way_in_records_the_address_it_used(desk: Desk) -> None:
    email = unique_email()
    await customer_client(desk, email=email.upper())  # stored in one case
    signed_up = await _customer(desk, "email", email)
    assert await _identities(desk, signed_up.id) == {("email", email, False)}
    await sso_customer_client(desk, uid="66001234")
    by_uid = await _customer(desk, "uid", "66001234")
    assert await _identities(desk, by_uid.id) == {("uid", "66001234", True)}
    api, _ = await make_token(desk)
    named = unique_email()
    await api.post("/api/v1/tickets", json={**NEW_TICKET, "contact_email": named,
                                            "contact_uid": "66009999"})
    new = await _customer(desk, "email", named)
    assert await _identities(desk, new.id) == {("email", named, False),
                                               ("uid", "66009999", True)}


async def test_an_api_create_finds_the_customer_through_any_identity(desk: Desk) -> None:
    """An address added later (a Telegram id, a second email) finds the same customer."""
    email, second = unique_email(), unique_email("alt")
    customer_http = await customer_client(desk, email=email)
    await submit_ticket(customer_http)
    customer = await _customer(desk, "email", email)
    async with desk.app.state.session_factory() as db:
        row = await db.get(Customer, customer.id)
        assert row is not None
        await identities.add_identity(db=db, customer=row, kind="email", value=second,
                                      verified=True)
        await identities.add_identity(db=db, customer=row, kind="telegram", value="@Trader_01",
                                      verified=True)
        await db.commit()
    api, _ = await make_token(desk)
    created = await api.post("/api/v1/tickets", json={**NEW_TICKET, "contact_email": second})
    assert created.json()["contact_email"] == email  # the customer's own address
    found = await api.get("/api/v1/tickets", params={"q": "@trader_01"})
    assert found.json()["total"] == 2


async def test_an_address_belongs_to_one_customer(desk: Desk) -> None:
    first, second = unique_email(), unique_email()
    await customer_client(desk, email=first)
    await customer_client(desk, email=second)
    other = await _customer(desk, "email", second)
    async with desk.app.state.session_factory() as db:
        row = await db.get(Customer, other.id)
        assert row is not None
        with pytest.raises(Conflict):
            await identities.add_identity(db=db, customer=row, kind="email", value=first,
                                          verified=False)
        with pytest.raises(InvalidInput):
            await identities.add_identity(db=db, customer=row, kind="carrier_pigeon",
                                          value="x", verified=False)


async def test_merging_moves_addresses_and_tickets_to_the_customer_kept(desk: Desk) -> None:
    email = unique_email()
    by_email = await customer_client(desk, email=email)
    kept_ref = reference_from(await submit_ticket(by_email))
    by_uid = await sso_customer_client(desk, uid="66005555")
    moved_ref = reference_from(await submit_ticket(by_uid))
    kept, merged = await _customer(desk, "email", email), await _customer(desk, "uid", "66005555")
    async with desk.app.state.session_factory() as db:
        survivor, gone = await db.get(Customer, kept.id), await db.get(Customer, merged.id)
        assert survivor is not None and gone is not None
        await identities.merge_customers(db=db, actor=("agent", None), survivor=survivor,
                                         merged=gone)
        await db.commit()
        owners = (await db.execute(select(Ticket.reference, Ticket.customer_id).where(
            Ticket.reference.in_([kept_ref, moved_ref])))).all()
        assert {owner for _ref, owner in owners} == {kept.id}
        left = (await db.execute(select(ContactIdentity).where(
            ContactIdentity.customer_id == merged.id))).scalars().all()
        assert left == []
        again = await db.get(Customer, kept.id)
        assert again is not None and again.uid == "66005555"
    assert (await _customer(desk, "uid", "66005555")).id == kept.id
    mine = await by_email.get("/portal/tickets")
    assert kept_ref in mine.text and moved_ref in mine.text
