"""A customer's addresses on every channel: finding a customer by one, adding one, and
merging two customers. The only code that writes `contact_identities`.

`customers.email` stays the address a customer signs in and is notified with, and
`customers.uid` the exchange account they are signed in as; which customer an address
or a channel's user id belongs to is always looked up here.
"""

from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts.models import ContactIdentity, Customer, IdentityKind
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.db import Base
from kefu.core.errors import Conflict, InvalidInput

IDENTITIES = cast(Table, ContactIdentity.__table__)
CUSTOMERS = cast(Table, Customer.__table__)


def canonical(kind: str, value: str) -> str:
    """The stored form: addresses compare case-insensitively, handles without '@'."""
    value = value.strip()
    if kind == IdentityKind.EMAIL:
        return value.lower()
    if kind in (IdentityKind.X, IdentityKind.TELEGRAM):
        return value.removeprefix("@").lower() if not value.isdigit() else value
    return value


def identity_values(*, kind: str, value: str, verified: bool) -> dict[str, Any]:
    """The columns of a new identity, but for its customer_id."""
    if kind not in IdentityKind.__members__.values():
        raise InvalidInput(f"Unknown identity kind: {kind[:32]}")
    return {"kind": kind, "value": canonical(kind, value)[:254], "verified": verified,
            "created_at": utcnow()}


def values_of(customer_email: str | None, customer_uid: str | None, *, uid_verified: bool
              ) -> list[dict[str, Any]]:
    """The identities of a new customer row with that email and UID."""
    rows = []
    if customer_email:
        rows.append(identity_values(kind=IdentityKind.EMAIL, value=customer_email,
                                    verified=False))
    if customer_uid:
        rows.append(identity_values(kind=IdentityKind.UID, value=customer_uid,
                                    verified=uid_verified))
    return rows


async def find_customer(*, db: AsyncSession, kind: str, value: str) -> Customer | None:
    query = (select(Customer).join(ContactIdentity, ContactIdentity.customer_id == Customer.id)
             .where(ContactIdentity.kind == kind,
                    ContactIdentity.value == canonical(kind, value)))
    return (await db.execute(query)).scalar_one_or_none()


async def identities_of(*, db: AsyncSession, customer_id: int) -> list[ContactIdentity]:
    query = (select(ContactIdentity).where(ContactIdentity.customer_id == customer_id)
             .order_by(ContactIdentity.id))
    return list((await db.execute(query)).scalars())


async def add_identity(*, db: AsyncSession, customer: Customer, kind: str, value: str,
                       verified: bool) -> ContactIdentity:
    """Give the customer this address; one they already have is returned (and marked
    verified when it now is). An address another customer holds is a Conflict: merge."""
    values = identity_values(kind=kind, value=value, verified=verified)
    query = select(ContactIdentity).where(ContactIdentity.kind == values["kind"],
                                          ContactIdentity.value == values["value"])
    existing = (await db.execute(query)).scalar_one_or_none()
    if existing is not None:
        if existing.customer_id != customer.id:
            raise Conflict("That address belongs to another customer; merge them first.")
        existing.verified = existing.verified or verified
        return existing
    identity = ContactIdentity(customer_id=customer.id, **values)
    db.add(identity)
    await db.flush()
    record(db, actor=("customer", customer.id), action="customer.identity_added",
           target=("customer", customer.id), detail={"kind": values["kind"]})
    return identity


async def merge_customers(*, db: AsyncSession, actor: tuple[str, int | None],
                          survivor: Customer, merged: Customer) -> None:
    """Fold `merged` into `survivor`: every row that points at the merged customer
    (identities, tickets, freezes …) points at the survivor, and the merged customer
    keeps no address. The tables are found through their foreign keys to customers, so
    this layer needs no import of the domains above it."""
    if survivor.id == merged.id:
        raise InvalidInput("A customer cannot be merged into itself.")
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column is CUSTOMERS.c.id:
                column = key.parent
                await db.execute(update(table).where(column == merged.id)
                                 .values({column.name: survivor.id}))
    email, uid = merged.email, merged.uid
    merged.email, merged.uid = None, None
    await db.flush()  # the unique email and UID are free before the survivor takes them
    survivor.email, survivor.uid = survivor.email or email, survivor.uid or uid
    await db.flush()
    record(db, actor=actor, action="customer.merged", target=("customer", survivor.id),
           detail={"merged_id": merged.id})
