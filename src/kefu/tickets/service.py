"""Ticket creation and conversation: the only code that writes tickets and messages.

Every verb records its audit entry and emits its event in the caller's transaction.
"""

from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from kefu.accounts.models import Agent, Team
from kefu.contacts.identities import values_of
from kefu.contacts.models import Contact, Customer, IdentityKind
from kefu.contacts.service import ContactTaken, new_contact_values
from kefu.core import events
from kefu.core.audit import entry_values, record
from kefu.core.clock import utcnow
from kefu.core.driver import Database, emit_after_commit, first
from kefu.core.errors import InvalidInput
from kefu.core.i18n import translate
from kefu.core.ids import ticket_reference
from kefu.core.jobs import enqueue, enqueued_event, job_values
from kefu.notifications.service import SEND_EMAIL, customer_email_payload
from kefu.security.content import (
    SECRET_MASKED,
    Cleaned,
    check_agent_outbound,
    clean_inbound,
    masked_finding,
    scan_inbound,
)
from kefu.security.guard import mask_secrets
from kefu.tickets.feed import TICKET_CREATED, TICKET_MESSAGE, row_values
from kefu.tickets.files import CheckedFile, FileStore
from kefu.tickets.models import (
    PRIORITY_RANK,
    Attachment,
    Category,
    ChannelType,
    Direction,
    Priority,
    Status,
    Ticket,
    TicketMessage,
)
from kefu.tickets.queries import attachment_read
from kefu.tickets.schemas import MessageRead, TicketDetail, TicketFields
from kefu.tickets.writes import NewTicketRows, insert_new_ticket
from kefu.triage.chain.extract import extract_facts
from kefu.triage.facts import add_reply_facts, record_new_ticket_facts
from kefu.triage.incidents import is_security_incident

# Carried out by the adapter of the message's channel (`kefu.channels`): verbs here only
# record the outbound message and queue this job.
DELIVER_MESSAGE = "channel.deliver"

# Which team a category lands with, and how urgent it starts (PRODUCT.md: security first).
ROUTES: dict[Category, tuple[str, Priority]] = {
    Category.ACCOUNT: ("general", Priority.NORMAL),
    Category.TRADING: ("general", Priority.NORMAL),
    Category.DEPOSIT_WITHDRAWAL: ("deposits", Priority.NORMAL),
    Category.SECURITY: ("security", Priority.URGENT),
    Category.API: ("api", Priority.NORMAL),
    Category.COMPLIANCE: ("compliance", Priority.NORMAL),
    Category.PROMOTIONS: ("general", Priority.LOW),
    Category.OTHER: ("general", Priority.NORMAL),
}


class CreatedTicket(NamedTuple):
    reference: str
    masked_kinds: frozenset[str]  # what the guard removed, so the customer can be warned
    detail: TicketDetail  # as written, so callers need not read it back


@dataclass(frozen=True)
class Author:
    kind: str  # customer | agent | system
    id: int | None
    name: str

    @classmethod
    def of_customer(cls, customer: Customer | Contact) -> "Author":
        return cls("customer", customer.id, customer.display)

    @classmethod
    def of_agent(cls, agent: Agent) -> "Author":
        return cls("agent", agent.id, agent.name)


# Built once: an integrator's retry runs it before each create that carries an id.
_BY_EXTERNAL_ID = (
    select(Ticket.reference).join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
    .where(TicketMessage.channel == bindparam("channel", type_=TicketMessage.channel.type),
           TicketMessage.external_id == bindparam("external_id",
                                                  type_=TicketMessage.external_id.type))
    .limit(1))


async def ticket_for_external_id(db: Database, *, channel: str, external_id: str) -> str | None:
    """The reference of the ticket holding the channel's message `external_id`, if any."""
    row = await first(db, _BY_EXTERNAL_ID, {"channel": channel, "external_id": external_id})
    return None if row is None else str(row[0])


async def _team(db: AsyncSession, slug: str) -> Team | None:
    return (await db.execute(select(Team).where(Team.slug == slug))).scalar_one_or_none()


async def create_ticket(
    *,
    db: Database,
    store: FileStore,
    customer: Contact,
    fields: TicketFields,
    files: list[CheckedFile],
    channel: ChannelType = ChannelType.PORTAL,
    priority: Priority | None = None,
    actor: Author | None = None,
    external_id: str | None = None,
    identity: tuple[str, str] | None = None,
    team: str | None = None,
    bot_only: bool = False,
) -> CreatedTicket:
    """Write the ticket, its first message, audit entries and notification job together:
    the one writer of new tickets, for every channel.

    On a session they commit with it; directly on the driver (`kefu.core.driver`, for
    PostgreSQL) they are one statement that commits by itself, and attachments, which
    need a transaction around several writes, are refused. `external_id` is the channel's
    own id for the first message; one already stored raises an IntegrityError and writes
    nothing (`ticket_for_external_id` finds the ticket it opened). `identity` is the
    customer's address the ticket came by (kind, value); by default their email, else UID.
    `team` (a slug) is the team a channel routes to (an email mailbox's), instead of the
    category's; a security category or incident still goes to the security team.
    `bot_only` opens a chat the bot answers first: agents' views and consoles hear of it
    only when it is handed over (`kefu.chat`), so it gets no desk feed row yet.
    """
    if files and not isinstance(db, AsyncSession):
        raise ValueError("attachments need a session: a direct write is one statement")
    subject = scan_inbound(fields.subject)
    description = scan_inbound(fields.description)
    outcome = scan_inbound(fields.desired_outcome or "")
    exposed = subject + description + outcome
    incident = exposed.severe or is_security_incident(f"{subject.text}\n{description.text}")
    category, team_slug, chosen = _route(fields.category, priority, incident=incident)
    if team is not None and category != Category.SECURITY:
        team_slug = team
    now = utcnow()
    reference = ticket_reference()
    ticket: dict[str, Any] = {
        "reference": reference, "subject": subject.text,
        "description": description.text, "category": category, "status": Status.NEW,
        "priority": chosen, "priority_rank": PRIORITY_RANK[chosen], "channel": channel,
        "assignee_id": None, "uid": fields.uid or customer.uid,
        **_identity_columns(customer, identity),
        "txid": _clean_txid(fields.txid), "occurred_at": fields.occurred_at,
        "platform": fields.platform, "platform_version": fields.platform_version,
        "desired_outcome": outcome.text or None, "created_at": now, "updated_at": now,
        "bot_only": bot_only,
    }
    author = Author.of_customer(customer)
    message: dict[str, Any] = {"author_type": author.kind, "author_name": author.name[:100],
               "body": description.text, "direction": Direction.IN, "channel": channel,
               "external_id": external_id, "created_at": now}
    # A customer not written yet is written by the same statement, which gives the id.
    new_customer = None if customer.id is not None else new_contact_values(customer)
    # Named by an integrator's token, which is trusted for UIDs (as for the contact itself).
    identities = () if customer.id is not None else tuple(
        values_of(customer.email, customer.uid, uid_verified=True))
    if customer.id is not None:
        ticket["customer_id"] = message["author_id"] = customer.id
    audits, after = _created_entries(actor or author, reference, {
        "category": category, "channel": channel, "secrets_masked": sorted(exposed.kinds),
        "security_incident": incident}, exposed)
    email = _created_email(customer, reference, subject.text)
    job = None if email is None else job_values(kind=SEND_EMAIL, payload=email)
    feed_row = None if bot_only else row_values(TICKET_CREATED, reference, {}, now)
    written = await insert_new_ticket(
        db, NewTicketRows(ticket, team_slug, message, tuple(audits), job, new_customer,
                          identities, feed_row))
    if written is None:
        raise ContactTaken()
    # From the stored (guarded) text: a hex masked as a key is never a fact.
    await record_new_ticket_facts(db, written.ticket_id, extract_facts(
        f"{subject.text}\n{description.text}", txid_field=ticket["txid"]))
    attachments = (await store_files(db, store, written.ticket_id, written.message_id, files)
                   if isinstance(db, AsyncSession) else [])
    if job is not None:
        after.append(enqueued_event(SEND_EMAIL))
    if not bot_only:
        after.append(events.Event(TICKET_CREATED, {"reference": reference, "assignee_id": None,
                                                   "team_id": written.team_id},
                                  id=written.event_id))
    for item in after:
        emit_after_commit(db, item)
    detail = TicketDetail(
        **ticket, team=team_slug if written.team_id is not None else None,
        assignee_email=None, contact_email=customer.email, rating=None,
        messages=[MessageRead(**message, internal=False,
                              attachments=[attachment_read(a) for a in attachments])])
    return CreatedTicket(reference, exposed.kinds, detail)


def _identity_columns(customer: Contact, identity: tuple[str, str] | None) -> dict[str, Any]:
    if identity is None:
        identity = ((IdentityKind.EMAIL, customer.email) if customer.email
                    else (IdentityKind.UID, customer.uid or ""))
    kind, value = identity
    return {"identity_kind": str(kind), "identity_value": value[:254] or None}


def _created_entries(who: Author, reference: str, detail: dict[str, Any], exposed: Cleaned
                     ) -> tuple[list[dict[str, Any]], list[events.Event]]:
    """The audit entries of a new ticket, and the events to send once it is written:
    what was masked is audited once for the whole ticket, by kind, never the text."""
    audits = [entry_values(actor=(who.kind, who.id), action="ticket.created",
                           target=("ticket", reference), detail=detail)]
    after: list[events.Event] = []
    if exposed.kinds:
        finding = masked_finding(exposed, where="ticket")
        audits.append(entry_values(actor=("system", None), action=SECRET_MASKED,
                                   detail=finding))
        after.append(events.Event(SECRET_MASKED, finding))
    return audits, after


def _route(
    category: Category, priority: Priority | None, *, incident: bool
) -> tuple[Category, str, Priority]:
    """Category, team and priority. An exposed seed phrase or key means the funds may need
    moving now, and a stolen account goes to the security team whatever was picked."""
    if incident:
        category = Category.SECURITY
    team_slug, default_priority = ROUTES[category]
    return category, team_slug, Priority.URGENT if incident else priority or default_priority


def _clean_txid(txid: str | None) -> str | None:
    """A TxID is a public hash and stays; a key pasted into the field does not."""
    if not txid:
        return None
    masked = mask_secrets(f"TxID {txid}").text
    return masked.removeprefix("TxID ")


def _created_email(customer: Contact, reference: str, subject: str) -> dict[str, Any] | None:
    t = customer.lang
    title = translate(t, "[%(ref)s] We received your request: %(subject)s") % {
        "ref": reference, "subject": subject}
    lines = [
        translate(t, "Hello,"),
        "",
        translate(t, "Thank you for contacting support. Your ticket number is %(ref)s.")
        % {"ref": reference},
        translate(t, "You can follow it and reply in My tickets: %(url)s")
        % {"url": f"/portal/tickets/{reference}"},
    ]
    return customer_email_payload(customer=customer, subject=title, lines=lines,
                                  ticket_reference=reference)


async def _add_message(
    db: AsyncSession,
    store: FileStore,
    ticket: Ticket,
    author: Author,
    body: str,
    *,
    direction: Direction,
    channel: str,
    files: list[CheckedFile],
    external_id: str | None = None,
) -> TicketMessage:
    message = TicketMessage(
        ticket_id=ticket.id,
        author_type=author.kind,
        author_id=author.id,
        author_name=author.name[:100],
        body=body,
        direction=direction,
        channel=channel,
        external_id=external_id,
        created_at=utcnow(),
    )
    db.add(message)
    await db.flush()
    if not files:
        # Nothing to load: saying so spares a SELECT on the hot path of every reply.
        set_committed_value(message, "attachments", [])
        return message
    await store_files(db, store, ticket.id, message.id, files)
    await db.refresh(message, ["attachments"])
    return message


async def reply_channel(db: AsyncSession, ticket: Ticket) -> str:
    """The channel the customer last wrote by: the agent's answer goes back that way."""
    query = (select(TicketMessage.channel)
             .where(TicketMessage.ticket_id == ticket.id,
                    TicketMessage.direction == Direction.IN)
             .order_by(TicketMessage.id.desc()).limit(1))
    return (await db.execute(query)).scalar_one_or_none() or ticket.channel


async def store_files(
    db: AsyncSession, store: FileStore, ticket_id: int, message_id: int,
    files: list[CheckedFile],
) -> list[Attachment]:
    if not files:
        return []
    saved: list[str] = []
    rows: list[Attachment] = []
    try:
        for checked in files:
            key = store.save(checked.data)
            saved.append(key)
            rows.append(Attachment(key=key, ticket_id=ticket_id, message_id=message_id,
                                   filename=checked.filename,
                                   content_type=checked.content_type,
                                   size=len(checked.data), sha256=checked.sha256,
                                   created_at=utcnow()))
        db.add_all(rows)
        await db.flush()
    except Exception:
        # A refused or failed write must leave no stray file behind.
        for key in saved:
            store.delete(key)
        raise
    return rows


async def add_customer_reply(
    *, db: AsyncSession, store: FileStore, ticket: Ticket, customer: Customer, body: str,
    files: list[CheckedFile], channel: str = ChannelType.PORTAL, external_id: str | None = None,
    participant: str | None = None,
) -> frozenset[str]:
    """Add the reply; returns the kinds of secret the guard masked in it. An
    `external_id` already stored for that channel raises an IntegrityError on flush.
    `participant` is the address that wrote it when not the customer themself (someone
    the ticket allows, as an email channel's copied address): the message and the audit
    entry name that address, and it counts as the customer's side of the conversation."""
    if ticket.status == Status.CLOSED:
        raise InvalidInput("This ticket is closed. Please open a new request.")
    cleaned = clean_inbound(db, body, where="ticket")
    author = (Author.of_customer(customer) if participant is None
              else Author("participant", None, participant))
    await _add_message(db, store, ticket, author, cleaned.text,
                       direction=Direction.IN, channel=channel, files=files,
                       external_id=external_id)
    await add_reply_facts(db, ticket.id, cleaned.text)
    if cleaned.severe:
        await _raise_to_security(db, ticket)
    if ticket.status in (Status.PENDING_CUSTOMER, Status.RESOLVED):
        ticket.status = Status.OPEN  # the customer's answer puts it back in the agents' queue
        ticket.resolved_at = None
    ticket.updated_at = utcnow()
    actor: tuple[str, int | str | None] = (
        ("customer", customer.id) if participant is None else ("participant", participant[:64]))
    record(db, actor=actor, action="ticket.customer_replied",
           target=("ticket", ticket.reference))
    events.emit(db, TICKET_MESSAGE, reference=ticket.reference, author="customer")
    return cleaned.kinds


async def _raise_to_security(db: AsyncSession, ticket: Ticket) -> None:
    team = await _team(db, "security")
    ticket.team, ticket.assignee = team, None
    ticket.priority, ticket.priority_rank = Priority.URGENT, PRIORITY_RANK[Priority.URGENT]
    record(db, actor=("system", None), action="ticket.raised_to_security",
           target=("ticket", ticket.reference), detail={"reason": "secret_exposed"})


async def add_agent_message(
    *, db: AsyncSession, store: FileStore, ticket: Ticket, agent: Agent, body: str,
    internal: bool, files: list[CheckedFile],
) -> TicketMessage:
    """A public reply, delivered to the customer by the channel they last wrote by (a
    job for its adapter), or an internal note (agents only, never delivered)."""
    if not internal:
        check_agent_outbound(db, body, agent_id=agent.id, where=ticket.reference)
    channel = await reply_channel(db, ticket)
    message = await _add_message(
        db, store, ticket, Author.of_agent(agent), body, files=files, channel=channel,
        direction=Direction.INTERNAL if internal else Direction.OUT)
    now = utcnow()
    ticket.updated_at = now
    if not internal:
        ticket.first_response_at = ticket.first_response_at or now
        if ticket.status == Status.NEW:
            ticket.status = Status.OPEN
        enqueue(db, kind=DELIVER_MESSAGE, payload={"message_id": message.id})
    action = "ticket.note_added" if internal else "ticket.agent_replied"
    record(db, actor=("agent", agent.id), action=action, target=("ticket", ticket.reference))
    events.emit(db, TICKET_MESSAGE, reference=ticket.reference, author="agent",
                internal=internal)
    return message


async def add_system_note(*, db: AsyncSession, ticket: Ticket, body: str, action: str,
                          channel: str) -> TicketMessage:
    """An internal note the desk writes itself (a reply that could not be delivered, a
    bounce): agents see it in the thread; it is never delivered to the customer."""
    message = TicketMessage(ticket_id=ticket.id, author_type="system", author_id=None,
                            author_name="Kefu", body=body[:20000],
                            direction=Direction.INTERNAL, channel=channel,
                            external_id=None, created_at=utcnow())
    db.add(message)
    await db.flush()
    set_committed_value(message, "attachments", [])
    ticket.updated_at = utcnow()
    record(db, actor=("system", None), action=action, target=("ticket", ticket.reference))
    events.emit(db, TICKET_MESSAGE, reference=ticket.reference, author="system",
                internal=True)
    return message


async def rate_ticket(
    *, db: AsyncSession, ticket: Ticket, customer: Customer, score: int, comment: str
) -> None:
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise InvalidInput("You can rate a ticket once it is resolved.")
    if ticket.rating is not None:
        raise InvalidInput("You have already rated this ticket.")
    ticket.rating = score
    ticket.rating_comment = clean_inbound(db, comment, where="rating").text if comment else None
    record(db, actor=("customer", customer.id), action="ticket.rated",
           target=("ticket", ticket.reference), detail={"score": score})
