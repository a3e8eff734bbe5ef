"""The email channel's adapter: an agent's reply goes out as mail from the mailbox the
customer wrote to, in the thread their mail client shows.

The Message-ID is made from the message's id (and the desk's secret, so it cannot be
guessed), so a retried delivery sends the same mail and a client that gets it twice
shows it once; it is returned and stored as the message's external id, which is how the
customer's answer (In-Reply-To) finds its ticket again.
"""

import hashlib
import hmac
import html
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, parseaddr

import aiosmtplib
import dkim
from sqlalchemy import select

from kefu.channels.base import (
    Capabilities,
    ChannelAdapter,
    Identity,
    InboundMessage,
    OutboundMessage,
)
from kefu.channels.email.models import Mailbox, RawEmail
from kefu.channels.email.parser import clean
from kefu.channels.registry import register
from kefu.core.errors import InvalidInput
from kefu.core.i18n import translate
from kefu.core.jobs import JobContext
from kefu.core.settings import Settings
from kefu.notifications.mailer import deliver
from kefu.notifications.service import email_text
from kefu.tickets.files import FileStore
from kefu.tickets.models import Attachment, ChannelType, Direction, Ticket, TicketMessage
from kefu.tickets.service import add_system_note

MAX_REFERENCES = 10
_RE = re.compile(r"^\s*((re|fw|fwd|回复|答复|转发)\s*[:：]\s*)+", re.IGNORECASE)


def message_id_for(message_id: int, *, secret: str, domain: str) -> str:
    """The Message-ID (without <>) of outbound message `message_id`: the same every time."""
    tag = hmac.new(secret.encode(), f"email-out:{message_id}".encode(),
                   hashlib.sha256).hexdigest()[:20]
    return f"kefu.{message_id}.{tag}@{domain}"


SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to",
                  b"references", b"mime-version", b"content-type")


def _signed(mail: EmailMessage, settings: Settings, domain: str) -> EmailMessage:
    """The mail with a DKIM-Signature for `domain` when a key is configured."""
    if settings.mail_dkim_key_file is None:
        return mail
    raw = mail.as_bytes(policy=SMTP)
    signature = dkim.sign(raw, settings.mail_dkim_selector.encode(), domain.encode(),
                          settings.mail_dkim_key_file.read_bytes(),
                          include_headers=[h for h in SIGNED_HEADERS if h.decode() in mail])
    return message_from_bytes(signature + raw, policy=SMTP)


def _html(text: str) -> str:
    """The text as HTML, every character escaped: nothing the agent typed becomes markup."""
    paragraphs = "".join(f"<p>{html.escape(block).replace(chr(10), '<br>')}</p>"
                         for block in text.split("\n\n") if block.strip())
    return f'<!doctype html><html><body style="font-family:sans-serif">{paragraphs}</body></html>'


def _one_line(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


class EmailAdapter(ChannelAdapter):
    type = ChannelType.EMAIL
    capabilities = Capabilities(threading=True, attachments=True, realtime=False)

    def receive(self, raw: object) -> InboundMessage:
        """A parsed email (`parser.ParsedEmail`) as the channel-neutral message."""
        from kefu.channels.email.parser import ParsedEmail

        if not isinstance(raw, ParsedEmail) or raw.sender is None:
            raise InvalidInput("Not an email with a sender.")
        return InboundMessage(channel=self.type, sender=Identity("email", raw.sender),
                              body=raw.reply or raw.text, external_id=raw.message_id,
                              subject=raw.subject)

    async def deliver(self, message: OutboundMessage, ctx: JobContext) -> str | None:
        async with ctx.session_factory() as db:
            ticket = (await db.execute(select(Ticket).where(
                Ticket.reference == message.ticket_reference))).unique().scalar_one()
            mailbox = (await db.execute(
                select(Mailbox).join(RawEmail, RawEmail.mailbox_id == Mailbox.id)
                .where(RawEmail.ticket_reference == message.ticket_reference)
                .order_by(RawEmail.id.desc()).limit(1))).unique().scalar_one_or_none()
            files = list((await db.execute(select(Attachment).where(
                Attachment.message_id == message.message_id).order_by(Attachment.id))).scalars())
            # Message-IDs only: a message stored under its hash had none to refer to.
            thread = [(str(row[0]), str(row[1])) for row in (await db.execute(
                select(TicketMessage.external_id, TicketMessage.direction)
                .where(TicketMessage.ticket_id == ticket.id,
                       TicketMessage.channel == ChannelType.EMAIL,
                       TicketMessage.external_id.is_not(None),
                       TicketMessage.id < message.message_id)
                .order_by(TicketMessage.id))).all() if "@" in str(row[0])]
        to = (ticket.identity_value if ticket.identity_kind == "email" else None) \
            or message.recipient_email
        if not to:
            return None  # no address to write to: the reply waits in My tickets
        sender_name, sender_address = parseaddr(ctx.settings.mail_from)
        if mailbox is not None:
            sender_name, sender_address = mailbox.name or sender_name, mailbox.address
        domain = sender_address.rpartition("@")[2] or "kefu.local"
        own_id = message_id_for(message.message_id, secret=ctx.settings.secret_key,
                                domain=domain)
        mail = EmailMessage()
        mail["From"] = formataddr((_one_line(sender_name), sender_address))
        mail["To"] = _one_line(to)
        subject = _RE.sub("", message.ticket_subject)
        mail["Subject"] = _one_line(f"Re: [{message.ticket_reference}] {subject}")[:300]
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{own_id}>"
        inbound = [eid for eid, direction in thread if direction == Direction.IN]
        if inbound:
            mail["In-Reply-To"] = f"<{inbound[-1]}>"
        if thread:
            mail["References"] = " ".join(f"<{eid}>" for eid, _ in thread[-MAX_REFERENCES:])
        mail["X-Kefu-Ticket"] = message.ticket_reference
        lang = message.recipient_lang
        lines = [message.body, "", translate(lang, "Reply to this email or in My tickets: "
                                                   "%(url)s")
                 % {"url": f"{ctx.settings.base_url}/portal/tickets/{message.ticket_reference}"}]
        text = email_text(lang=lang, anti_phishing_code=message.anti_phishing_code, lines=lines)
        mail.set_content(text)
        mail.add_alternative(_html(text), subtype="html")
        store = FileStore(ctx.settings.attachments_dir)
        for item in files:
            kind, _, sub = item.content_type.partition("/")
            mail.add_attachment(store.read(item.key), maintype=kind, subtype=sub,
                                filename=_one_line(item.filename))
        try:
            await deliver(ctx.settings, _signed(mail, ctx.settings, domain))
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code < 500:
                raise  # temporary: the job retries with backoff
            await _permanent_failure(ctx, message.ticket_reference, to,
                                     f"{exc.code} {exc.message}")
            return None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0] if exc.recipients else None
            if refusal is None or refusal.code < 500:
                raise
            await _permanent_failure(ctx, message.ticket_reference, to,
                                     f"{refusal.code} {refusal.message}")
            return None
        return own_id


async def _permanent_failure(ctx: JobContext, reference: str, to: str, reason: str) -> None:
    """The server refused the reply for good (5xx): retrying cannot help, so the agent is
    told in the ticket's thread instead."""
    async with ctx.session_factory() as db:
        ticket = (await db.execute(select(Ticket).where(Ticket.reference == reference))
                  ).unique().scalar_one()
        await add_system_note(
            db=db, ticket=ticket, channel=ChannelType.EMAIL, action="email.delivery_failed",
            body=f"The email reply to {to} could not be delivered: {clean(reason)[:300]}")
        await db.commit()


register(EmailAdapter())
