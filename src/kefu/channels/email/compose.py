"""What every mail the desk sends about an email ticket shares: it comes from the mailbox
the customer wrote to, answers their latest mail (In-Reply-To) within the ticket's thread
(References), carries a text and an HTML part, is DKIM-signed when a key is set, and a
permanent refusal of it is told to the agent in the ticket's thread."""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr

import aiosmtplib
import dkim
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.channels.email.models import Mailbox, RawEmail
from kefu.channels.email.parser import clean
from kefu.core.settings import Settings
from kefu.notifications.mailer import MAIL_POLICY, WIRE_POLICY, deliver
from kefu.tickets.models import ChannelType, Direction, Ticket, TicketMessage
from kefu.tickets.service import add_system_note

MAX_REFERENCES = 10
_RE = re.compile(r"^\s*((re|fw|fwd|回复|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)
SIGNED_HEADERS = (b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to",
                  b"references", b"mime-version", b"content-type")


@dataclass(frozen=True)
class Thread:
    """Where a ticket's mail comes from and which mail it follows."""

    mailbox: Mailbox | None  # the mailbox the ticket's latest mail came to, if any
    ids: tuple[tuple[str, str], ...]  # (Message-ID, direction) of its email, oldest first
    has_mail: bool  # the customer wrote by email at least once

    def sender(self, settings: Settings) -> tuple[str, str]:
        """The From (display name, address): the mailbox's, else the desk's."""
        name, address = parseaddr(settings.mail_from)
        if self.mailbox is not None:
            name, address = self.mailbox.name or name, self.mailbox.address
        return name, address

    def headers(self, mail: EmailMessage) -> None:
        """In-Reply-To the customer's latest mail, References the thread's latest ids."""
        inbound = [eid for eid, direction in self.ids if direction == Direction.IN]
        if inbound:
            mail["In-Reply-To"] = f"<{inbound[-1]}>"
        if self.ids:
            mail["References"] = " ".join(f"<{eid}>" for eid, _ in self.ids[-MAX_REFERENCES:])


async def mailbox_of(db: AsyncSession, reference: str) -> Mailbox | None:
    """The mailbox that received the ticket's latest mail."""
    query = (select(Mailbox).join(RawEmail, RawEmail.mailbox_id == Mailbox.id)
             .where(RawEmail.ticket_reference == reference)
             .order_by(RawEmail.id.desc()).limit(1))
    return (await db.execute(query)).unique().scalar_one_or_none()


async def thread_of(db: AsyncSession, ticket: Ticket, *, before: int | None = None) -> Thread:
    """The ticket's email thread (its messages before message `before`, when given)."""
    query = (select(TicketMessage.external_id, TicketMessage.direction)
             .where(TicketMessage.ticket_id == ticket.id,
                    TicketMessage.channel == ChannelType.EMAIL,
                    TicketMessage.external_id.is_not(None))
             .order_by(TicketMessage.id))
    if before is not None:
        query = query.where(TicketMessage.id < before)
    rows = [(str(row[0]), str(row[1])) for row in (await db.execute(query)).all()]
    # Message-IDs only: a message stored under its hash had none to refer to.
    ids = tuple((eid, direction) for eid, direction in rows if "@" in eid)
    return Thread(await mailbox_of(db, ticket.reference), ids,
                  any(direction == Direction.IN for _, direction in rows))


def one_line(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def reply_subject(reference: str, subject: str) -> str:
    """`Re: [KF-…] subject`, with one "Re:" however many the thread piled up."""
    return one_line(f"Re: [{reference}] {_RE.sub('', subject)}")[:300]


def as_html(text: str) -> str:
    """The text as HTML, every character escaped: nothing typed becomes markup."""
    paragraphs = "".join(f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
                         for block in text.split("\n\n") if block.strip())
    return f'<!doctype html><html><body style="font-family:sans-serif">{paragraphs}</body></html>'


def new_mail(*, sender: tuple[str, str], to: str, subject: str, message_id: str,
             text: str) -> EmailMessage:
    """A mail with its text and an HTML alternative; the caller adds threading."""
    mail = EmailMessage(policy=MAIL_POLICY)
    mail["From"] = formataddr((one_line(sender[0]), sender[1]))
    mail["To"] = one_line(to)
    mail["Subject"] = one_line(subject)[:300]
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{message_id}>"
    mail.set_content(text)
    mail.add_alternative(as_html(text), subtype="html")
    return mail


def domain_of(address: str) -> str:
    return address.rpartition("@")[2] or "kefu.local"


def signed(mail: EmailMessage, settings: Settings, domain: str) -> EmailMessage:
    """The mail with a DKIM-Signature for `domain` when a key is configured."""
    if settings.mail_dkim_key_file is None:
        return mail
    raw = mail.as_bytes(policy=WIRE_POLICY)  # the bytes `deliver` sends
    signature = dkim.sign(raw, settings.mail_dkim_selector.encode(), domain.encode(),
                          settings.mail_dkim_key_file.read_bytes(),
                          include_headers=[h for h in SIGNED_HEADERS if h.decode() in mail])
    return message_from_bytes(signature + raw, policy=MAIL_POLICY)


async def send(settings: Settings, mail: EmailMessage, *, domain: str,
               recipients: list[str]) -> str | None:
    """Send (signed) to `recipients`: None when the server took it, the reason when it
    refused for good (5xx); a temporary failure raises, for the job to retry."""
    try:
        await deliver(settings, signed(mail, settings, domain), recipients)
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code < 500:
            raise
        return f"{exc.code} {exc.message}"
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refusal = exc.recipients[0] if exc.recipients else None
        if refusal is None or refusal.code < 500:
            raise
        return f"{refusal.code} {refusal.message}"
    return None


async def note_undelivered(session_factory: Callable[[], AsyncSession], *, reference: str,
                           what: str, to: str, reason: str) -> None:
    """The server refused `what` (mail about the ticket) for good: retrying cannot help,
    so the agent is told in the ticket's thread instead."""
    async with session_factory() as db:
        ticket = (await db.execute(select(Ticket).where(Ticket.reference == reference))
                  ).unique().scalar_one()
        await add_system_note(
            db=db, ticket=ticket, channel=ChannelType.EMAIL, action="email.delivery_failed",
            body=f"The email {what} to {to} could not be delivered: {clean(reason)[:300]}")
        await db.commit()
