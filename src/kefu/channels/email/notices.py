"""A ticket's notices (its confirmation, its status changes) for a customer who wrote by
email: from the mailbox they wrote to, in their thread, as the agents' replies are.

The notification job (`kefu.notifications`) offers every ticket's email here first. A
ticket no mailbox received mail for is left to it (sent plain from the desk's address).
The notice answers the customer's latest mail (In-Reply-To, References), keeps the
subject with the ticket's reference, carries text and HTML, and its Message-ID carries
the reference (`ids.derived_id`, the same on every try of the job), so a customer who
answers the notice, or a bounce of it, finds the ticket again.
"""

import hashlib
import re
from typing import Any

from sqlalchemy import select

from kefu.channels.email.compose import (
    domain_of,
    new_mail,
    note_undelivered,
    send,
    thread_of,
)
from kefu.channels.email.ids import derived_id
from kefu.contacts.models import IdentityKind
from kefu.core.jobs import JobContext
from kefu.notifications.service import send_ticket_mail_with
from kefu.tickets.models import Ticket

_NOT_KEY = re.compile(r"[^0-9a-zA-Z]")


def _key(payload: dict[str, Any]) -> str:
    """What tells this notice from the ticket's others: the nonce made when it was queued."""
    nonce = _NOT_KEY.sub("", str(payload.get("nonce") or ""))[:32]
    if nonce:
        return nonce
    return hashlib.sha256(f"{payload['subject']}\n{payload['text']}".encode()).hexdigest()[:16]


@send_ticket_mail_with
async def send_ticket_notice(payload: dict[str, Any], ctx: JobContext) -> bool:
    reference = str(payload["ticket"])
    async with ctx.session_factory() as db:
        ticket = (await db.execute(select(Ticket).where(Ticket.reference == reference))
                  ).unique().scalar_one_or_none()
        if ticket is None:
            return False
        thread = await thread_of(db, ticket)
    if thread.mailbox is None or not thread.has_mail:
        return False  # not an email ticket: the plain notice
    to = str(payload["to"])
    if ticket.identity_kind == IdentityKind.EMAIL and ticket.identity_value:
        to = ticket.identity_value  # the address of the thread, as agents' replies
    sender = thread.sender(ctx.settings)
    domain = domain_of(sender[1])
    mail = new_mail(sender=sender, to=to, subject=str(payload["subject"]),
                    message_id=derived_id("note", _key(payload), reference,
                                          secret=ctx.settings.secret_key, domain=domain),
                    text=str(payload["text"]))
    thread.headers(mail)
    mail["Auto-Submitted"] = "auto-generated"  # no vacation reply comes back to it
    mail["X-Kefu-Ticket"] = reference
    refused = await send(ctx.settings, mail, domain=domain, recipients=[to])
    if refused is not None:
        await note_undelivered(ctx.session_factory, reference=reference, what="notification",
                               to=to, reason=refused)
    return True
