"""Customer sign-up and identification. The only code that writes customers."""

import hashlib
import hmac
from typing import Any, cast

from sqlalchemy import CompoundSelect, Table, bindparam, case, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.passwords import hash_password, verify_password
from kefu.contacts.models import Contact, Customer
from kefu.core.clock import utcnow
from kefu.core.db import dialect_name
from kefu.core.errors import Conflict, InvalidInput, Unauthorized
from kefu.security.audit import record

CUSTOMERS = cast(Table, Customer.__table__)


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def get_by_email(*, db: AsyncSession, email: str) -> Customer | None:
    # Stored addresses are normalised on the way in, so plain equality can use the index.
    query = select(Customer).where(Customer.email == normalise_email(email))
    return (await db.execute(query)).scalar_one_or_none()


async def sign_up(
    *, db: AsyncSession, email: str, password: str, name: str = "", lang: str = "en"
) -> Customer:
    customer = Customer(
        email=normalise_email(email),
        name=name.strip()[:100],
        password_hash=hash_password(password),
        lang=lang,
        created_at=utcnow(),
    )
    db.add(customer)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        # Same generic text as other refusals; callers decide whether to reveal more.
        raise Conflict("This email cannot be used to sign up.") from exc
    record(db, actor=("customer", customer.id), action="customer.sign_up",
           target=("customer", customer.id))
    return customer


def uid_signature(uid: str, secret: str) -> str:
    return hmac.new(secret.encode(), uid.encode(), hashlib.sha256).hexdigest()


def verify_uid_signature(uid: str, signature: str, secret: str) -> bool:
    return hmac.compare_digest(uid_signature(uid, secret), signature.lower())


async def identify_by_uid(
    *, db: AsyncSession, uid: str, signature: str, secret: str, lang: str = "en"
) -> Customer:
    """The exchange vouches for a UID by signing it; unsigned UIDs are never trusted."""
    uid = uid.strip()
    if not uid or len(uid) > 64 or not uid.isalnum():
        raise InvalidInput("Invalid UID.")
    if not verify_uid_signature(uid, signature, secret):
        raise InvalidInput("Invalid UID signature.")
    existing = (await db.execute(select(Customer).where(Customer.uid == uid))).scalar_one_or_none()
    if existing is not None:
        return existing
    customer = Customer(uid=uid, lang=lang, created_at=utcnow())
    db.add(customer)
    await db.flush()
    record(db, actor=("customer", customer.id), action="customer.identified_by_uid",
           target=("customer", customer.id))
    return customer


async def set_anti_phishing_code(*, db: AsyncSession, customer: Customer, code: str) -> None:
    code = code.strip()
    if not (4 <= len(code) <= 20) or not code.isalnum():
        raise InvalidInput("The anti-phishing code must be 4-20 letters or digits.")
    customer.anti_phishing_code = code
    record(db, actor=("customer", customer.id), action="customer.anti_phishing_code_set",
           target=("customer", customer.id))


async def authenticate(*, db: AsyncSession, email: str, password: str) -> Customer:
    customer = await get_by_email(db=db, email=email)
    # argon2 runs for unknown addresses too, so the answer takes the same time.
    ok = verify_password(customer.password_hash if customer else None, password)
    if customer is None or not ok:
        raise Unauthorized("Invalid email or password.")
    return customer


async def contact_for_api(
    *, db: AsyncSession, email: str | None, uid: str | None
) -> Contact:
    """Find or create the customer an integrator names; the token is trusted for UIDs.

    An email names the customer first, then a UID. Plain column reads and an insert that
    yields to a concurrent one (ON CONFLICT DO NOTHING, then read again): this runs on
    every API ticket create, and two requests for the same new address must not fail.
    """
    if not email and not uid:
        raise InvalidInput("Give contact_email or contact_uid.")
    address = normalise_email(email) if email else None
    values = {"email": address, "uid": uid or None, "name": "", "lang": "en",
              "created_at": utcnow()}
    if dialect_name(db) == "postgresql":
        row = (await db.execute(FIND_OR_INSERT_PG, values)).first()
    else:
        found = await _find_contact(db, address, uid)
        if found is not None:
            return found
        row = (await db.execute(INSERT_SQLITE, values)).first()
    if row is None:  # another request created it (or holds the UID) in the meantime
        found = await _find_contact(db, address, uid)
        if found is None:
            raise Conflict("That contact changed while the ticket was being created; retry.")
        return found
    return Contact(*row)


# Built once and reused with bind parameters: this runs on every API ticket create.
CONTACT_COLUMNS = (CUSTOMERS.c.id, CUSTOMERS.c.email, CUSTOMERS.c.uid, CUSTOMERS.c.name,
                   CUSTOMERS.c.lang, CUSTOMERS.c.anti_phishing_code)
CONTACT_BY = {
    column.key: select(*CONTACT_COLUMNS).where(column == bindparam("value"))
    for column in (CUSTOMERS.c.email, CUSTOMERS.c.uid)
}


NEW_CONTACT = {name: bindparam(name, type_=CUSTOMERS.c[name].type)
               for name in ("email", "uid", "name", "lang", "created_at")}
INSERT_SQLITE = (sqlite_insert(CUSTOMERS).values(NEW_CONTACT).on_conflict_do_nothing()
                 .returning(*CONTACT_COLUMNS))


def _find_or_insert_pg() -> CompoundSelect[Any]:
    """One round trip: the customer with that email (else that UID), or a new one."""
    c = CUSTOMERS.c
    found = (select(*CONTACT_COLUMNS)
             .where(or_(c.email == NEW_CONTACT["email"], c.uid == NEW_CONTACT["uid"]))
             .order_by(case((c.email == NEW_CONTACT["email"], 0), else_=1)).limit(1)
             .cte("found"))
    new_row = select(*NEW_CONTACT.values()).where(~exists(select(found.c.id)))
    inserted = (pg_insert(CUSTOMERS).from_select(list(NEW_CONTACT), new_row)
                .on_conflict_do_nothing().returning(*CONTACT_COLUMNS).cte("inserted"))
    return select(found).union_all(select(inserted))


FIND_OR_INSERT_PG = _find_or_insert_pg()


async def _find_contact(db: AsyncSession, email: str | None, uid: str | None) -> Contact | None:
    for key, value in (("email", email), ("uid", uid)):
        if value:
            row = (await db.execute(CONTACT_BY[key], {"value": value})).first()
            if row is not None:
                return Contact(*row)
    return None
