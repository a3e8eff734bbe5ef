"""The first two channels: the customer portal and the integrators' REST API.

Neither can push to the customer, so an agent's reply is delivered by telling the
customer by email (in their language, with their anti-phishing code) that it waits in
My tickets; a customer without an address reads it there (or the integrator by API).
"""

import re
from dataclasses import dataclass

from kefu.channels.base import (
    Capabilities,
    ChannelAdapter,
    Identity,
    InboundMessage,
    OutboundMessage,
)
from kefu.channels.registry import register
from kefu.core.errors import InvalidInput
from kefu.core.i18n import translate
from kefu.core.jobs import JobContext
from kefu.notifications.mailer import build_message, deliver
from kefu.notifications.service import email_text
from kefu.tickets.models import ChannelType

# A resend key the page or the integrator makes up: printable, no spaces, bounded.
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,200}")


@dataclass(frozen=True)
class Submission:
    """What a customer or an integrator sent: who, the text, and their resend key."""

    sender: Identity
    body: str
    external_id: str | None = None
    subject: str = ""
    ticket_reference: str | None = None


def checked_external_id(value: str | None) -> str | None:
    if not value:
        return None
    if not _EXTERNAL_ID.fullmatch(value):
        raise InvalidInput("The request id must be 1-200 letters, digits or ._:@/+=-")
    return value


class _NotifiedByEmail(ChannelAdapter):
    def receive(self, raw: object) -> InboundMessage:
        if not isinstance(raw, Submission):
            raise InvalidInput("Not a submission.")
        if not raw.body.strip():
            raise InvalidInput("The message is empty.")
        return InboundMessage(channel=self.type, sender=raw.sender, body=raw.body,
                              subject=raw.subject, ticket_reference=raw.ticket_reference,
                              external_id=checked_external_id(raw.external_id))

    async def deliver(self, message: OutboundMessage, ctx: JobContext) -> str | None:
        if not message.recipient_email:
            return None  # nothing to push to: the reply waits in My tickets / the API
        subject, text = reply_email(message)
        await deliver(ctx.settings, build_message(ctx.settings, to=message.recipient_email,
                                                  subject=subject, text=text))
        return None


def reply_email(message: OutboundMessage) -> tuple[str, str]:
    t = message.recipient_lang
    subject = translate(t, "[%(ref)s] New reply to your request: %(subject)s") % {
        "ref": message.ticket_reference, "subject": message.ticket_subject}
    lines = [message.body, "", translate(t, "Reply in My tickets: %(url)s")
             % {"url": f"/portal/tickets/{message.ticket_reference}"}]
    return subject, email_text(lang=t, anti_phishing_code=message.anti_phishing_code,
                               lines=lines)


class PortalAdapter(_NotifiedByEmail):
    type = ChannelType.PORTAL
    capabilities = Capabilities(threading=True, attachments=True, realtime=False)


class ApiAdapter(_NotifiedByEmail):
    type = ChannelType.API
    capabilities = Capabilities(threading=True, attachments=False, realtime=False)


register(PortalAdapter())
register(ApiAdapter())
