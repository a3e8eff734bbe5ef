"""The email channel's adapter: an agent's reply goes out as mail from the mailbox the
customer wrote to, in the thread their mail client shows.

The Message-ID is made from the message's id (and the desk's secret, so it cannot be
guessed), so a retried delivery sends the same mail and a client that gets it twice
shows it once; it is returned and stored as the message's external id, which is how the
customer's answer (In-Reply-To) finds its ticket again.

The addresses the ticket allows (`participants`) are copied: the mail names them in Cc,
but they get a copy of their own, without the customer's anti-phishing code (a code
others have read no longer tells the customer our mail from a fake). Its Message-ID
carries the ticket's reference (`ids.derived_id`), so their answers find the ticket too.
"""

from email.message import EmailMessage

from sqlalchemy import select

from kefu.channels.base import (
    Capabilities,
    ChannelAdapter,
    Identity,
    InboundMessage,
    OutboundMessage,
)
from kefu.channels.email import notices  # noqa: F401  (sends email tickets' notices)
from kefu.channels.email.compose import (
    Thread,
    domain_of,
    new_mail,
    note_undelivered,
    one_line,
    reply_subject,
    send,
    thread_of,
)
from kefu.channels.email.ids import derived_id, message_id_for
from kefu.channels.email.participants import participants_of
from kefu.channels.registry import register
from kefu.core.errors import InvalidInput
from kefu.core.i18n import translate
from kefu.core.jobs import JobContext
from kefu.notifications.service import email_text
from kefu.tickets.files import FileStore
from kefu.tickets.models import Attachment, ChannelType, Ticket

__all__ = ["EmailAdapter", "message_id_for"]


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
            thread = await thread_of(db, ticket, before=message.message_id)
            allowed = await participants_of(db=db, ticket_id=ticket.id)
            files = list((await db.execute(select(Attachment).where(
                Attachment.message_id == message.message_id).order_by(Attachment.id))).scalars())
        to = (ticket.identity_value if ticket.identity_kind == "email" else None) \
            or message.recipient_email
        if not to:
            return None  # no address to write to: the reply waits in My tickets
        copied = [p.address for p in allowed if p.address != to.lower()]
        sender = thread.sender(ctx.settings)
        domain = domain_of(sender[1])
        own_id = message_id_for(message.message_id, secret=ctx.settings.secret_key,
                                domain=domain)
        lang = message.recipient_lang
        url = f"{ctx.settings.base_url}/portal/tickets/{message.ticket_reference}"
        text = email_text(lang=lang, anti_phishing_code=message.anti_phishing_code, lines=[
            message.body, "", translate(lang, "Reply to this email or in My tickets: %(url)s")
            % {"url": url}])
        mail = _reply(message, thread, sender, to, copied, own_id, text, files, ctx)
        refused = await send(ctx.settings, mail, domain=domain, recipients=[to])
        if refused is not None:
            await note_undelivered(ctx.session_factory, reference=message.ticket_reference,
                                   what="reply", to=to, reason=refused)
            return None
        if copied:
            await _copy(message, thread, sender, to, copied, files, ctx)
        return own_id


def _reply(message: OutboundMessage, thread: Thread, sender: tuple[str, str], to: str,
           copied: list[str], message_id: str, text: str, files: list[Attachment],
           ctx: JobContext) -> EmailMessage:
    mail = new_mail(sender=sender, to=to, subject=reply_subject(
        message.ticket_reference, message.ticket_subject), message_id=message_id, text=text)
    if copied:
        mail["Cc"] = ", ".join(copied)
    thread.headers(mail)
    mail["X-Kefu-Ticket"] = message.ticket_reference
    store = FileStore(ctx.settings.attachments_dir)
    for item in files:
        kind, _, sub = item.content_type.partition("/")
        mail.add_attachment(store.read(item.key), maintype=kind, subtype=sub,
                            filename=one_line(item.filename))
    return mail


async def _copy(message: OutboundMessage, thread: Thread, sender: tuple[str, str], to: str,
                copied: list[str], files: list[Attachment], ctx: JobContext) -> None:
    """The participants' copy: the same reply and headers, without the anti-phishing code."""
    lang = message.recipient_lang
    text = email_text(lang=lang, anti_phishing_code=None, lines=[
        message.body, "", translate(lang, "You are copied on this request. Reply to this "
                                          "email to add to it.")])
    domain = domain_of(sender[1])
    copy_id = derived_id("cc", str(message.message_id), message.ticket_reference,
                         secret=ctx.settings.secret_key, domain=domain)
    mail = _reply(message, thread, sender, to, copied, copy_id, text, files, ctx)
    refused = await send(ctx.settings, mail, domain=domain, recipients=copied)
    if refused is not None:
        await note_undelivered(ctx.session_factory, reference=message.ticket_reference,
                               what="copy of the reply", to=", ".join(copied), reason=refused)


register(EmailAdapter())
