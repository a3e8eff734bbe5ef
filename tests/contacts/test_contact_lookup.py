"""Finding or creating the customer an integrator names (contacts.service.contact_for_api)."""

import asyncio
import secrets

import pytest

from conftest import Desk, unique_email
from kefu.contacts.service import contact_for_api
from kefu.core.errors import InvalidInput


async def _contact(desk: Desk, email: str | None, uid: str | None) -> int:
    async with desk.app.state.session_factory() as db:
        contact = await contact_for_api(db=db, email=email, uid=uid)
        await db.commit()
    return contact.id


def _uid() -> str:
    return str(secrets.randbelow(10**9))


async def test_the_same_address_names_the_same_customer(desk: Desk) -> None:
    email = unique_email()
    first = await _contact(desk, email, None)
    assert await _contact(desk, f"  {email.upper()} ", None) == first
    assert await _contact(desk, unique_email(), None) != first


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
    email = unique_email()
    ids = await asyncio.gather(*(_contact(desk, email, None) for _ in range(12)))
    assert len(set(ids)) == 1


async def test_nothing_to_name_a_customer_by_is_refused(desk: Desk) -> None:
    async with desk.app.state.session_factory() as db:
        with pytest.raises(InvalidInput):
            await contact_for_api(db=db, email=None, uid=None)
