"""The customer's side of a chat: start, write, upload, answer the bot's question, leave
a message, rate, ask for the transcript, end. Each verb writes in the caller's
transaction and announces after commit (`kefu.chat.posting`)."""

import re
from dataclasses import dataclass

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat import frames
from kefu.chat.models import Chat, ChatSite, Outcome, Owner, ProblemType
from kefu.chat.posting import SYSTEM, Author, announce, post
from kefu.chat.routing import free_agent_slot
from kefu.contacts.models import Contact, Customer, IdentityKind
from kefu.core import events
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.errors import Conflict, InvalidInput
from kefu.core.i18n import translate
from kefu.core.jobs import enqueue
from kefu.notifications.service import SEND_EMAIL, email_text
from kefu.security.content import clean_inbound
from kefu.tickets.feed import TICKET_CREATED
from kefu.tickets.files import CheckedFile, FileStore
from kefu.tickets.models import Category, ChannelType, Direction, Status, Ticket, TicketMessage
from kefu.tickets.schemas import TicketFields
from kefu.tickets.service import create_ticket, store_files

MAX_TEXT = 4000
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
CATEGORY_OF = {
    ProblemType.ACCOUNT: Category.ACCOUNT,
    ProblemType.DEPOSIT_WITHDRAWAL: Category.DEPOSIT_WITHDRAWAL,
    ProblemType.TRADING: Category.TRADING,
    ProblemType.SECURITY: Category.SECURITY,
    ProblemType.API: Category.API,
    ProblemType.KYC: Category.COMPLIANCE,
    ProblemType.OTHER: Category.OTHER,
}
TYPE_TITLES: dict[str, str] = {
    ProblemType.ACCOUNT: "Account", ProblemType.DEPOSIT_WITHDRAWAL: "Deposits & withdrawals",
    ProblemType.TRADING: "Trading", ProblemType.SECURITY: "Security", ProblemType.API: "API",
    ProblemType.KYC: "Identity verification (KYC)", ProblemType.OTHER: "Something else",
}


def clean_text(text: str) -> str:
    """Chat text as stored: NUL and other control characters but newlines and tabs go
    (PostgreSQL text cannot hold NUL; nobody types one), bounded and non-empty."""
    cleaned = "".join(c for c in text if c in "\n\t" or (c >= " " and c != "\x7f")).strip()
    if not cleaned:
        raise InvalidInput("The message is empty.")
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput(f"A message is at most {MAX_TEXT} characters.")
    return cleaned


def checked_client_id(client_id: str) -> str:
    if not _CLIENT_ID.fullmatch(client_id):
        raise InvalidInput("client_id must be 1-64 letters, digits or ._:-")
    return client_id


async def open_chat_of(db: AsyncSession, customer: Customer) -> Chat | None:
    return (await db.execute(
        select(Chat).where(Chat.visitor_id == customer.id, Chat.owner != Owner.ENDED)
        .order_by(Chat.created_at.desc()).limit(1))).scalar_one_or_none()


async def start_chat(db: AsyncSession, store: FileStore, *, site: ChatSite, customer: Customer,
                     problem_type: ProblemType, lang: str, verified_uid: str | None) -> Chat:
    """The visitor's open chat, or a new one the bot owns: a ticket agents do not see
    until it is handed over."""
    existing = await open_chat_of(db, customer)
    if existing is not None:
        return existing
    title = translate(lang, TYPE_TITLES[problem_type])
    identity = ((IdentityKind.UID, verified_uid) if verified_uid
                else (IdentityKind.WIDGET_VISITOR, f"visitor #{customer.id}"))
    created = await create_ticket(
        db=db, store=store, customer=Contact.of(customer),
        fields=TicketFields(category=CATEGORY_OF[problem_type],
                            subject=translate(lang, "Chat: %(type)s") % {"type": title},
                            description=translate(lang, "Chat started on %(site)s about: %(type)s")
                            % {"site": site.name, "type": title}, uid=verified_uid),
        files=[], channel=ChannelType.CHAT, identity=identity, bot_only=True)
    ticket = (await db.execute(select(Ticket).where(Ticket.reference == created.reference))
              ).unique().scalar_one()
    now = utcnow()
    chat = Chat(ticket_id=ticket.id, site_id=site.id, visitor_id=customer.id, owner=Owner.BOT,
                problem_type=problem_type, lang=lang, verified_uid=verified_uid,
                team_id=ticket.team_id, urgent=False, last_seq=0, rejections=0,
                created_at=now, updated_at=now)
    db.add(chat)
    await db.flush()
    greeting = translate(lang, "Hi! I'm Kefu's assistant. Ask your question about %(type)s; "
                         "type 转人工 or \"human\" at any time to reach a person.") % {
        "type": title}
    await post(db, chat, SYSTEM, greeting, direction=Direction.OUT)
    return chat


@dataclass(frozen=True)
class Posted:
    message: TicketMessage
    new: bool  # False: this client_id was already stored (a resend)
    masked: frozenset[str] = frozenset()


async def _stored(db: AsyncSession, external_id: str) -> TicketMessage | None:
    return (await db.execute(select(TicketMessage).where(
        TicketMessage.channel == ChannelType.CHAT, TicketMessage.external_id == external_id))
    ).scalar_one_or_none()


async def ticket_of(db: AsyncSession, chat: Chat) -> Ticket:
    ticket = await db.get(Ticket, chat.ticket_id)
    assert ticket is not None  # a chat row is its ticket's, by foreign key
    return ticket


async def add_customer_message(db: AsyncSession, store: FileStore, *, chat: Chat,
                               customer: Customer, client_id: str, text: str,
                               file: CheckedFile | None = None) -> Posted:
    """Store what the customer wrote, once per client_id; secrets are masked first and
    the customer is warned on their own message."""
    external_id = f"{chat.ticket_id}:{checked_client_id(client_id)}"
    if chat.owner == Owner.ENDED:
        stored = await _stored(db, external_id)  # a resend of what was sent before the end
        if stored is not None:
            return Posted(stored, new=False)
        raise Conflict("This chat has ended. Start a new one to ask something else.")
    cleaned = clean_inbound(db, clean_text(text), where="chat")
    meta = None
    if cleaned.kinds:
        meta = {"warning": translate(chat.lang, "We removed what looked like a password, "
                                     "code or recovery phrase from your message. Kefu staff "
                                     "will never ask you for it.")}
    author = Author("customer", customer.id, customer.display)
    try:
        async with db.begin_nested():
            message = await post(db, chat, author, cleaned.text, direction=Direction.IN,
                                 external_id=external_id, meta=meta)
    except IntegrityError:  # a resend: the client_id is stored (the savepoint undid the seq)
        again = await _stored(db, external_id)
        if again is None:
            raise
        return Posted(again, new=False)
    assert message is not None
    if file is not None:
        await store_files(db, store, chat.ticket_id, message.id, [file])
        await db.refresh(message, ["attachments"])
    await _touch_ticket(db, chat)
    return Posted(message, new=True, masked=cleaned.kinds)


async def _touch_ticket(db: AsyncSession, chat: Chat) -> None:
    """One UPDATE, not a load of the ticket with its customer, team and agent: this runs
    for every line a customer types."""
    waiting = Ticket.status.in_((Status.PENDING_CUSTOMER, Status.RESOLVED))
    await db.execute(
        update(Ticket).where(Ticket.id == chat.ticket_id)
        .values(updated_at=utcnow(), status=case((waiting, Status.OPEN), else_=Ticket.status))
        .execution_options(synchronize_session=False))


async def end_chat(db: AsyncSession, chat: Chat, *, outcome: Outcome, by: str) -> None:
    """The one way a chat ends: its slot is freed, the ticket follows the outcome."""
    if chat.owner == Owner.ENDED:
        return
    await free_agent_slot(db, chat)
    was = chat.owner
    now = utcnow()
    chat.owner, chat.outcome, chat.ended_at, chat.updated_at = Owner.ENDED, outcome, now, now
    chat.offered_agent_id = None
    ticket = await ticket_of(db, chat)
    if outcome in (Outcome.BOT_RESOLVED, Outcome.RESOLVED, Outcome.ABANDONED):
        ticket.status, ticket.resolved_at = Status.RESOLVED, now
    ticket.updated_at = now
    record(db, actor=(by, None), action="chat.ended", target=("ticket", ticket.reference),
           detail={"outcome": outcome, "owner_was": was})
    await post(db, chat, SYSTEM, translate(chat.lang, "This chat has ended. How did we do? "
                                           "Please rate it below."), direction=Direction.OUT)
    announce(db, frames.CHAT_STATE, chat, state=frames.chat_frame(chat, reference=ticket.reference))


def reveal_to_agents(db: AsyncSession, ticket: Ticket) -> None:
    """A chat the bot had becomes a ticket agents see, and their consoles hear of it."""
    if not ticket.bot_only:
        return
    ticket.bot_only = False
    events.emit(db, TICKET_CREATED, reference=ticket.reference, team_id=ticket.team_id,
                assignee_id=None)


async def rate(db: AsyncSession, chat: Chat, *, score: int, comment: str) -> None:
    if chat.owner != Owner.ENDED:
        raise Conflict("You can rate the chat once it has ended.")
    if chat.rating is not None:
        raise Conflict("You have already rated this chat.")
    if not 1 <= score <= 5:
        raise InvalidInput("The rating is 1 to 5.")
    chat.rating = score
    ticket = await ticket_of(db, chat)
    if ticket.rating is None:
        ticket.rating = score
        ticket.rating_comment = (clean_inbound(db, clean_text(comment), where="rating").text
                                 if comment.strip() else None)
    record(db, actor=("customer", chat.visitor_id), action="chat.rated",
           target=("ticket", ticket.reference), detail={"score": score})


async def leave_message(db: AsyncSession, store: FileStore, *, chat: Chat, customer: Customer,
                        email: str, text: str) -> str:
    """Nobody can answer now: the chat becomes a ticket for the team, the customer gets
    its reference (and an email with it)."""
    if chat.owner == Owner.ENDED:
        raise Conflict("This chat has ended. Start a new one to ask something else.")
    ticket = await ticket_of(db, chat)
    customer = await db.merge(customer)  # the visitor may come from another session
    if customer.email is None:
        taken = (await db.execute(select(Customer.id).where(Customer.email == email))).first()
        if taken is None:
            customer.email = email
    await add_customer_message(db, store, chat=chat, customer=customer,
                               client_id=f"leave-{chat.ticket_id}-{chat.last_seq}", text=text)
    reveal_to_agents(db, ticket)
    ticket.status = Status.NEW
    await end_chat(db, chat, outcome=Outcome.LEFT_MESSAGE, by="customer")
    lines = [translate(chat.lang, "We received your message. Your request number is "
                       "%(ref)s; an agent will reply by email.") % {"ref": ticket.reference},
             "", text]
    enqueue(db, kind=SEND_EMAIL, payload={
        "to": email, "subject": f"[{ticket.reference}] " + translate(
            chat.lang, "We received your message"),
        "text": email_text(lang=chat.lang, anti_phishing_code=customer.anti_phishing_code,
                           lines=lines)})
    return ticket.reference
