"""Self-service freeze: the only code that writes account_freezes.

A customer asks; we record it, audit it and enqueue `exchange.freeze_account` in the same
transaction. The job (see `jobs`) calls the exchange and reports back through
`mark_frozen` / `mark_freeze_failed`.
"""

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts.models import Customer
from kefu.core import events, jobs
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput
from kefu.core.i18n import translate
from kefu.integrations.exchange.base import FreezeResult, valid_uid
from kefu.integrations.exchange.models import AccountFreeze, FreezeStatus, UidSource
from kefu.notifications.service import queue_customer_email

FREEZE_JOB = "exchange.freeze_account"
FREEZE_REQUESTED = "exchange.freeze_requested"
FREEZE_FINISHED = "exchange.freeze_finished"
# Freezing must not stall behind long backoffs: ~2+4+…+256 s, then dead (admin: /admin/jobs).
FREEZE_MAX_ATTEMPTS = 9


async def request_account_freeze(
    *, db: AsyncSession, customer: Customer, uid: str, uid_source: UidSource,
    ticket_reference: str | None = None, ip: str | None = None,
) -> AccountFreeze:
    """Idempotent per customer and UID while a request is still in flight."""
    uid = uid.strip()
    if not valid_uid(uid):
        raise InvalidInput("Please enter your UID (letters and digits only).")
    pending = (await db.execute(select(AccountFreeze).where(
        AccountFreeze.customer_id == customer.id, AccountFreeze.uid == uid,
        AccountFreeze.status == FreezeStatus.REQUESTED))).scalar_one_or_none()
    if pending is not None:
        return pending
    freeze = AccountFreeze(customer_id=customer.id, uid=uid, uid_source=uid_source,
                           status=FreezeStatus.REQUESTED,
                           idempotency_key=secrets.token_hex(16),
                           ticket_reference=ticket_reference[:20] if ticket_reference else None,
                           created_at=utcnow())
    db.add(freeze)
    await db.flush()
    jobs.enqueue(db, kind=FREEZE_JOB, payload={"freeze_id": freeze.id},
                 max_attempts=FREEZE_MAX_ATTEMPTS)
    record(db, actor=("customer", customer.id), action="exchange.freeze_requested",
           target=("account_freeze", freeze.id), ip=ip,
           detail={"uid": uid, "uid_source": str(uid_source),
                   "ticket": freeze.ticket_reference})
    events.emit(db, FREEZE_REQUESTED, freeze_id=freeze.id, uid=uid)
    return freeze


async def customer_freezes(*, db: AsyncSession, customer: Customer, limit: int = 10
                           ) -> list[AccountFreeze]:
    query = (select(AccountFreeze).where(AccountFreeze.customer_id == customer.id)
             .order_by(AccountFreeze.id.desc()).limit(limit))
    return list((await db.execute(query)).scalars().all())


async def mark_frozen(*, db: AsyncSession, freeze: AccountFreeze, result: FreezeResult) -> None:
    freeze.status = FreezeStatus.FROZEN
    freeze.exchange_reference = result.reference[:64]
    freeze.completed_at = utcnow()
    record(db, actor=("system", None), action="exchange.account_frozen",
           target=("account_freeze", freeze.id),
           detail={"uid": freeze.uid, "reference": freeze.exchange_reference,
                   "replayed": result.replayed})
    events.emit(db, FREEZE_FINISHED, freeze_id=freeze.id, status="frozen")
    customer = await db.get(Customer, freeze.customer_id)
    if customer is not None:
        _notify_frozen(db, customer, freeze.uid)


async def mark_freeze_failed(*, db: AsyncSession, freeze: AccountFreeze, error: str) -> None:
    freeze.status = FreezeStatus.FAILED
    freeze.error = error[:200]
    freeze.completed_at = utcnow()
    record(db, actor=("system", None), action="exchange.freeze_failed",
           target=("account_freeze", freeze.id), detail={"uid": freeze.uid, "error": freeze.error})
    events.emit(db, FREEZE_FINISHED, freeze_id=freeze.id, status="failed")


def _notify_frozen(db: AsyncSession, customer: Customer, uid: str) -> None:
    t = customer.lang
    queue_customer_email(db, customer=customer, subject=translate(
        t, "Your account %(uid)s is frozen") % {"uid": uid}, lines=[
        translate(t, "As you asked, your account %(uid)s is frozen: no withdrawals, trading "
                     "or logins until you contact us.") % {"uid": uid},
        translate(t, "Next: change your password and reset your 2FA from a device you trust."),
    ])
