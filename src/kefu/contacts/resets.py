"""Password reset by emailed link. The answer never reveals whether an address exists.

Customers ask for resets, so this lives with them; the reset rows and sessions it ends are
accounts' (contacts sits above accounts, never the reverse)."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import sessions
from kefu.accounts.models import Agent, PasswordReset, PrincipalType
from kefu.contacts import service as contacts
from kefu.contacts.models import Customer
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput
from kefu.core.i18n import translate
from kefu.core.passwords import hash_password
from kefu.core.tokens import digest, new_secret
from kefu.notifications.service import queue_customer_email

RESET_VALID = timedelta(hours=1)


async def request_customer_reset(*, db: AsyncSession, email: str, base_url: str) -> None:
    customer = await contacts.get_by_email(db=db, email=email)
    if customer is None or customer.password_hash is None:
        return
    secret = new_secret()
    db.add(PasswordReset(token_hash=digest(secret), principal_type=PrincipalType.CUSTOMER,
                         principal_id=customer.id, expires_at=utcnow() + RESET_VALID))
    t = customer.lang
    queue_customer_email(
        db, customer=customer, subject=translate(t, "Reset your password"),
        lines=[translate(t, "Someone asked to reset your password. If it was you, open:"),
               f"{base_url}/portal/reset/{secret}",
               translate(t, "The link works for one hour. If it was not you, ignore this email.")],
    )
    record(db, actor=("customer", customer.id), action="customer.reset_requested",
           target=("customer", customer.id))


async def confirm_reset(*, db: AsyncSession, secret: str, password: str) -> None:
    query = select(PasswordReset).where(PasswordReset.token_hash == digest(secret))
    reset = (await db.execute(query)).scalar_one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at < utcnow():
        raise InvalidInput("This reset link is invalid or has expired.")
    principal: Customer | Agent | None
    if reset.principal_type == PrincipalType.CUSTOMER:
        principal = await db.get(Customer, reset.principal_id)
    else:
        principal = await db.get(Agent, reset.principal_id)
    if principal is None:
        raise InvalidInput("This reset link is invalid or has expired.")
    principal.password_hash = hash_password(password)
    reset.used_at = utcnow()
    # Every session dies with the old password.
    await sessions.end_all_sessions(db=db, kind=PrincipalType(reset.principal_type),
                                    principal_id=principal.id)
    record(db, actor=(reset.principal_type, principal.id), action="password.reset",
           target=(reset.principal_type, principal.id))
