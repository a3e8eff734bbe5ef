"""The contract every channel adapter keeps.

Inbound, an adapter turns what its channel sends (a form, an API body, an email, a
webhook update) into an `InboundMessage`: text, sender identity and the channel's own
id for it. It validates and normalises, and never writes: the ticket verbs
(`kefu.tickets.service`) store the message, once per (channel, external id).

Outbound, ticket verbs never send anything. They record the outbound message and queue a
`channel.deliver` job in the same transaction; the job (`kefu.channels.delivery`) loads
the message and calls `deliver` on the adapter of the channel it is to go by. `deliver`
may be called more than once for one message (a retry after a crash or a timeout), so it
must be safe to repeat; an exception makes the job retry with backoff, then go dead
(admin: /admin/jobs), and the message stays recorded either way.
"""

import abc
from dataclasses import dataclass, field
from datetime import datetime

from kefu.core.jobs import JobContext
from kefu.tickets.files import CheckedFile
from kefu.tickets.models import ChannelType


@dataclass(frozen=True)
class Capabilities:
    """What a channel can carry, so callers offer only what will arrive."""

    threading: bool  # replies land in the same thread the customer sees
    attachments: bool  # files go both ways
    realtime: bool  # the customer may be watching live (chat, messengers)
    max_length: int | None = None  # the longest text one message may carry


@dataclass(frozen=True)
class Identity:
    """A customer's address on a channel (`kefu.contacts.models.IdentityKind`)."""

    kind: str
    value: str
    verified: bool = False


@dataclass(frozen=True)
class InboundMessage:
    channel: ChannelType
    sender: Identity
    body: str
    external_id: str | None = None  # the channel's id: a redelivery is stored once
    subject: str = ""
    ticket_reference: str | None = None  # the ticket it continues, when the channel says
    attachments: tuple[CheckedFile, ...] = ()
    received_at: datetime | None = None


@dataclass(frozen=True)
class OutboundMessage:
    """A recorded message to deliver, with what any channel needs to address it."""

    message_id: int
    ticket_reference: str
    ticket_subject: str
    channel: str
    body: str
    author_name: str
    recipient_email: str | None
    recipient_lang: str
    anti_phishing_code: str | None
    identities: dict[str, str] = field(default_factory=dict)  # kind -> value


class ChannelAdapter(abc.ABC):
    """One channel. Subclasses set `type` and `capabilities` and implement both verbs."""

    type: ChannelType
    capabilities: Capabilities

    @abc.abstractmethod
    def receive(self, raw: object) -> InboundMessage:
        """The channel's raw input as a normalised message; `InvalidInput` when it is not
        one. Pure: no database, no network."""

    @abc.abstractmethod
    async def deliver(self, message: OutboundMessage, ctx: JobContext) -> str | None:
        """Send the message; return the channel's id for it when the channel gives one.
        Raise to have the job retried. Must be safe to call again for the same message."""
