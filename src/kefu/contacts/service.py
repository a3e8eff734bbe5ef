"""Customer sign-up and identification. The only code that writes customers."""

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, case, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.contacts.identities import IDENTITIES, add_identity, find_customer
from kefu.contacts.models import Contact, Customer, IdentityKind
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.driver import Database, first
from kefu.core.errors import Conflict, InvalidInput, Unauthorized
from kefu.core.passwords import hash_password, verify_password

CUSTOMERS = cast(Table, Customer.__table__)


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def get_by_email(*, db: AsyncSession, email: str) -> Customer | None:
    return await find_customer(db=db, kind=IdentityKind.EMAIL, value=email)


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
    await add_identity(db=db, customer=customer, kind=IdentityKind.EMAIL,
                       value=normalise_email(email), verified=False)
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
    existing = await find_customer(db=db, kind=IdentityKind.UID, value=uid)
    if existing is not None:
        return existing
    customer = Customer(uid=uid, lang=lang, created_at=utcnow())
    db.add(customer)
    await db.flush()
    await add_identity(db=db, customer=customer, kind=IdentityKind.UID, value=uid, verified=True)
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


class ContactTaken(Conflict):
    """A customer written meanwhile holds the new contact's address or UID: nothing of
    the write that was to create them was kept; find them again and retry."""

    def __init__(self) -> None:
        super().__init__("That contact changed while the ticket was being created; retry.")


async def contact_for_api(*, db: Database, email: str | None, uid: str | None) -> Contact:
    """The customer an integrator names (an email first, then a UID; the token is trusted
    for UIDs), or, for someone new, an unwritten contact (id None) that the ticket's own
    statement writes (`new_contact_values`): one read and no separate commit per create.
    """
    named = contact_names(email, uid)
    return contact_found(await first(db, FIND_CONTACT, named), named)


def contact_names(email: str | None, uid: str | None) -> dict[str, str | None]:
    """FIND_CONTACT's parameters: the normalised address and the UID."""
    if not email and not uid:
        raise InvalidInput("Give contact_email or contact_uid.")
    return {"email": normalise_email(email) if email else None, "uid": uid or None}


def contact_found(row: Sequence[Any] | None, named: dict[str, str | None]) -> Contact:
    """The contact from FIND_CONTACT's columns, or an unwritten one (row None)."""
    if row is not None:
        return Contact(*row)
    return Contact(None, named["email"], named["uid"], "", "en", None)


def new_contact_values(contact: Contact) -> dict[str, Any]:
    """The columns of an unwritten contact's customer row."""
    return {"email": contact.email, "uid": contact.uid, "name": contact.name,
            "lang": contact.lang, "created_at": utcnow()}


def _find_contact_statement() -> Select[Any]:
    """The customer whose identities hold that email, else the one holding that UID: one
    read on the identities' unique index."""
    c, i = CUSTOMERS.c, IDENTITIES.c
    email, uid = bindparam("email", type_=i.value.type), bindparam("uid", type_=i.value.type)
    by_email = (i.kind == IdentityKind.EMAIL.value) & (i.value == email)
    by_uid = (i.kind == IdentityKind.UID.value) & (i.value == uid)
    return (select(c.id, c.email, c.uid, c.name, c.lang, c.anti_phishing_code)
            .select_from(IDENTITIES.join(CUSTOMERS, c.id == i.customer_id))
            .where(or_(by_email, by_uid))
            .order_by(case((i.kind == IdentityKind.EMAIL.value, 0), else_=1)).limit(1))


# Built once and reused with bind parameters: this runs on every API ticket create.
FIND_CONTACT = _find_contact_statement()
