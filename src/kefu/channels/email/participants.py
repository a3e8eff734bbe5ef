"""The addresses a ticket allows besides its customer's: the only code that writes them.

Who: the addresses the customer copied (Cc) on their own mail — the mail that opened the
ticket and every reply of theirs that joined it — and the addresses an agent adds on the
ticket page. What that allows: their mail joins the ticket (authored as that address),
and agent replies by email copy them. What never adds one: a participant's own Cc (only
the customer decides who is copied), mail whose From fails DMARC, mail that did not join
as the customer's (a flagged look-alike), and the desk's own mailboxes. An agent sees
every participant on the ticket page and can remove one.
"""

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.channels.email.models import Mailbox, TicketParticipant
from kefu.contacts.identities import canonical, identities_of
from kefu.contacts.models import IdentityKind
from kefu.core import events
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput, NotFound
from kefu.tickets.feed import TICKET_UPDATED
from kefu.tickets.models import Ticket

MAX_PARTICIPANTS = 10  # per ticket: a Cc of a whole department is not a conversation
BY_CUSTOMER = "customer"


async def participants_of(*, db: AsyncSession, ticket_id: int) -> list[TicketParticipant]:
    query = (select(TicketParticipant).where(TicketParticipant.ticket_id == ticket_id)
             .order_by(TicketParticipant.id))
    return list((await db.execute(query)).scalars())


async def is_participant(*, db: AsyncSession, ticket_id: int, address: str) -> bool:
    query = select(TicketParticipant.id).where(
        TicketParticipant.ticket_id == ticket_id,
        TicketParticipant.address == canonical(IdentityKind.EMAIL, address))
    return (await db.execute(query.limit(1))).scalar_one_or_none() is not None


async def _not_allowed(db: AsyncSession, ticket: Ticket) -> set[str]:
    """Addresses that can never be participants: the desk's mailboxes and the customer's
    own email addresses (their mail joins as theirs already)."""
    ours = set((await db.execute(select(Mailbox.address))).scalars())
    own = {i.value for i in await identities_of(db=db, customer_id=ticket.customer_id)
           if i.kind == IdentityKind.EMAIL}
    if ticket.customer.email:
        own.add(canonical(IdentityKind.EMAIL, ticket.customer.email))
    return ours | own


async def record_copied(*, db: AsyncSession, ticket: Ticket, addresses: Iterable[str],
                        sender: str) -> list[str]:
    """Add the addresses the customer's mail (from `sender`) copied; returns those added.
    The caller decided the mail is the customer's and its From is not disproven."""
    wanted = [canonical(IdentityKind.EMAIL, a) for a in addresses]
    wanted = [a for a in dict.fromkeys(wanted) if a and a != canonical(IdentityKind.EMAIL,
                                                                         sender)]
    if not wanted:
        return []
    present = {p.address for p in await participants_of(db=db, ticket_id=ticket.id)}
    excluded = await _not_allowed(db, ticket) | present
    room = MAX_PARTICIPANTS - len(present)
    added = [a for a in wanted if a not in excluded][:max(room, 0)]
    for address in added:
        _add(db, ticket, address, BY_CUSTOMER)
    if added:
        record(db, actor=("customer", ticket.customer_id), action="ticket.participants_added",
               target=("ticket", ticket.reference), detail={"addresses": added})
    return added


def _add(db: AsyncSession, ticket: Ticket, address: str, added_by: str) -> None:
    db.add(TicketParticipant(ticket_id=ticket.id, address=address[:254], added_by=added_by,
                             created_at=utcnow()))


async def add_participant(*, db: AsyncSession, ticket: Ticket, agent: Agent,
                          address: str) -> None:
    """An agent allows `address` (valid, normalised) on the ticket; adding one already
    there changes nothing."""
    address = canonical(IdentityKind.EMAIL, address)
    present = {p.address for p in await participants_of(db=db, ticket_id=ticket.id)}
    if address in present:
        return
    if address in await _not_allowed(db, ticket):
        raise InvalidInput("That address is the customer's own or the desk's.")
    if len(present) >= MAX_PARTICIPANTS:
        raise InvalidInput(f"A ticket copies at most {MAX_PARTICIPANTS} addresses.")
    _add(db, ticket, address, f"agent:{agent.id}")
    await db.flush()
    record(db, actor=("agent", agent.id), action="ticket.participant_added",
           target=("ticket", ticket.reference), detail={"address": address})
    events.emit(db, TICKET_UPDATED, reference=ticket.reference)


async def remove_participant(*, db: AsyncSession, ticket: Ticket, agent: Agent,
                             address: str) -> None:
    """Stop allowing `address`: its mail no longer joins, replies no longer copy it."""
    address = canonical(IdentityKind.EMAIL, address)
    removed = await db.execute(delete(TicketParticipant).where(
        TicketParticipant.ticket_id == ticket.id, TicketParticipant.address == address))
    if removed.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound()
    record(db, actor=("agent", agent.id), action="ticket.participant_removed",
           target=("ticket", ticket.reference), detail={"address": address})
    events.emit(db, TICKET_UPDATED, reference=ticket.reference)
