"""Widget visitors: an anonymous visitor is a customer known by a bearer token.

The token is random and only its digest is stored (as the customer's `widget_visitor`
identity), so the database never holds a usable token. A verified UID makes the visitor
the exchange's customer with that UID; their token is bound to that customer.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts.identities import add_identity, find_customer
from kefu.contacts.models import Customer, IdentityKind
from kefu.core.clock import utcnow
from kefu.core.tokens import digest, new_secret

TOKEN_PREFIX = "kv_"  # noqa: S105 (a prefix, not a secret)
MAX_TOKEN = 100


@dataclass(frozen=True)
class Visitor:
    token: str
    customer: Customer


async def visitor_for_token(db: AsyncSession, token: str | None) -> Customer | None:
    if not token or len(token) > MAX_TOKEN or not token.startswith(TOKEN_PREFIX):
        return None
    return await find_customer(db=db, kind=IdentityKind.WIDGET_VISITOR, value=digest(token))


async def open_visitor(db: AsyncSession, *, token: str | None, uid: str | None,
                       lang: str) -> Visitor:
    """The visitor for this token (a new one when it is missing or unknown); with a
    verified `uid`, the customer with that UID, the token bound to them."""
    known = await visitor_for_token(db, token)
    if uid is None:
        if known is not None and token is not None:
            return Visitor(token, known)
        return await _new_token(db, await _new_customer(db, lang))
    customer = await find_customer(db=db, kind=IdentityKind.UID, value=uid)
    if customer is None:
        customer = await _new_customer(db, lang, uid=uid)
        await add_identity(db=db, customer=customer, kind=IdentityKind.UID, value=uid,
                           verified=True)
    if known is not None and known.id == customer.id and token is not None:
        return Visitor(token, customer)
    return await _new_token(db, customer)


async def _new_customer(db: AsyncSession, lang: str, *, uid: str | None = None) -> Customer:
    customer = Customer(uid=uid, lang=lang, created_at=utcnow())
    db.add(customer)
    await db.flush()
    return customer


async def _new_token(db: AsyncSession, customer: Customer) -> Visitor:
    token = new_secret(TOKEN_PREFIX)
    await add_identity(db=db, customer=customer, kind=IdentityKind.WIDGET_VISITOR,
                       value=digest(token), verified=False)
    return Visitor(token, customer)
