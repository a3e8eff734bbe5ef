"""Customer sessions: the store is accounts' (kefu.accounts.sessions), the customer is ours."""

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import PrincipalType
from kefu.accounts.sessions import principal_id
from kefu.contacts.models import Customer


async def resolve_customer(*, db: AsyncSession, token: str) -> Customer | None:
    """The customer behind a session cookie, or None (expired, revoked, or an agent's)."""
    customer_id = await principal_id(db=db, token=token, kind=PrincipalType.CUSTOMER)
    return await db.get(Customer, customer_id) if customer_id is not None else None
