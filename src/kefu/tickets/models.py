"""Tickets, their messages and attachments."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import Agent, Team
from kefu.contacts.models import Customer
from kefu.core.db import Base, UTCDateTime


class Category(StrEnum):
    ACCOUNT = "account"
    TRADING = "trading"
    DEPOSIT_WITHDRAWAL = "deposit_withdrawal"
    SECURITY = "security"
    API = "api"
    COMPLIANCE = "compliance"
    PROMOTIONS = "promotions"
    OTHER = "other"


class ChannelType(StrEnum):
    """The way a ticket or a message came in or went out; each has an adapter
    (`kefu.channels`). A ticket's channel is the one its first message came by."""

    PORTAL = "portal"
    API = "api"
    EMAIL = "email"
    CHAT = "chat"
    TELEGRAM = "telegram"
    X = "x"
    FACEBOOK = "facebook"


class Direction(StrEnum):
    IN = "in"  # from the customer
    OUT = "out"  # to the customer, delivered by the channel's adapter
    INTERNAL = "internal"  # agents only: never delivered, never shown to the customer


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING_CUSTOMER)
ASSIGNED = "assignee_id IS NOT NULL"


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_team_status", "team_id", "status"),
        # Only assigned tickets: a new ticket (unassigned) adds no entry on its create.
        Index("ix_tickets_assignee_id", "assignee_id", postgresql_where=text(ASSIGNED),
              sqlite_where=text(ASSIGNED)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default=Status.NEW, index=True)
    priority: Mapped[str] = mapped_column(String(10), default=Priority.NORMAL)
    priority_rank: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(16), default=ChannelType.PORTAL)
    # The customer's address the ticket was opened with (an identity's kind and value):
    # agents see who wrote and how to reach them on that channel.
    identity_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    identity_value: Mapped[str | None] = mapped_column(String(254), nullable=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    uid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    txid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    platform: Mapped[str | None] = mapped_column(String(16), nullable=True)
    platform_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    desired_outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A chat the bot still owns (or solved): agents' views leave it out until handed over.
    bot_only: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(lazy="joined")
    team: Mapped[Team | None] = relationship(lazy="joined")
    assignee: Mapped[Agent | None] = relationship(lazy="joined")


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    # A channel's own id for a message (an email's Message-ID, a webhook's update id, a
    # client's resend key) is stored once: a redelivery finds the message already there.
    # NULLs never collide, so messages without one are unaffected.
    # A chat's messages are numbered in order (`seq`): a client that reconnects asks for
    # those after the last one it saw.
    __table_args__ = (UniqueConstraint("channel", "external_id",
                                       name="uq_ticket_messages_channel_external_id"),
                      Index("uq_ticket_messages_ticket_id_seq", "ticket_id", "seq", unique=True))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_type: Mapped[str] = mapped_column(String(16))  # customer | agent | system | bot
    author_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author_name: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # What a channel shows beside the text: a bot answer's article links, its question
    # whether the answer helped ({"articles": [{"title", "url"}], "ask_feedback": true}).
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    @property
    def internal(self) -> bool:
        return self.direction == Direction.INTERNAL

    attachments: Mapped[list["Attachment"]] = relationship(lazy="selectin")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("ticket_messages.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
