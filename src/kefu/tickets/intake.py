"""Who creates a ticket through the API, and for whom, in one read.

An API create checks its token (never cached: a revoked token is refused on its next
call) and looks up the customer it names. Both are one statement, the token's row
outer-joined to the customer's, so that on PostgreSQL a create takes two round trips in
all (`kefu.core.driver`).
"""

from typing import Any

from sqlalchemy import Select, select, true

from kefu.accounts.service import TOKEN_CHECK, ApiCaller, api_caller
from kefu.contacts.models import Contact
from kefu.contacts.service import FIND_CONTACT, contact_found, contact_names
from kefu.core.driver import Database, first
from kefu.core.tokens import digest


def _caller_and_contact() -> Select[Any]:
    caller, contact = TOKEN_CHECK.subquery("caller"), FIND_CONTACT.subquery("contact")
    return select(*caller.c, *contact.c).select_from(caller.outerjoin(contact, true()))


CALLER_AND_CONTACT = _caller_and_contact()
CALLER_COLUMNS = len(TOKEN_CHECK.selected_columns)


async def caller_and_contact(*, db: Database, secret: str, scope: str, email: str | None,
                             uid: str | None) -> tuple[ApiCaller, Contact]:
    """The token's caller (or Unauthorized) and the customer named (id None if new)."""
    named = contact_names(email, uid)
    # No row at all when the token is unknown: refused before the contact matters.
    row = await first(db, CALLER_AND_CONTACT, {"token_hash": digest(secret), **named}) or ()
    caller = api_caller(row[:CALLER_COLUMNS] or None, scope)
    found = row[CALLER_COLUMNS:]
    return caller, contact_found(found if found[0] is not None else None, named)
