"""Mailboxes and the raw messages they received."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import Team
from kefu.core.db import Base, UTCDateTime


class Mailbox(Base):
    """An address the desk receives mail at (support@, security@ …), routed to a team."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)  # lower case
    name: Mapped[str] = mapped_column(String(100), default="")  # the From display name
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Polled over IMAP (TLS, certificate verified) when a host is set (`imap.poll`). The
    # password is stored as given: the desk must present it to the server.
    imap_host: Mapped[str | None] = mapped_column(String(254), nullable=True)
    imap_port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    imap_username: Mapped[str | None] = mapped_column(String(254), nullable=True)
    imap_password: Mapped[str | None] = mapped_column(String(254), nullable=True)
    imap_folder: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Where polling got to: the folder's UIDVALIDITY and the last UID stored raw.
    imap_uidvalidity: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    imap_last_uid: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    imap_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    team: Mapped[Team | None] = relationship(lazy="joined")


class RawStatus(StrEnum):
    RECEIVED = "received"  # stored, its parse job queued
    PROCESSED = "processed"  # a ticket or a reply was written from it
    IGNORED = "ignored"  # read, and deliberately left out (bounce, auto-reply, rate limit)
    FAILED = "failed"  # could not be parsed or stored as a ticket: kept, reprocessable


class RawEmail(Base):
    """One message as it arrived. The bytes live in a file in the data folder, named by
    their SHA-256: PostgreSQL text cannot hold NUL and mail may carry any byte, so the
    database keeps only what was read out of it, with NUL replaced (see `parser.clean`)."""

    __tablename__ = "raw_emails"
    __table_args__ = (Index("ix_raw_emails_sender_received", "sender", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # smtp | lmtp | ingest | imap
    status: Mapped[str] = mapped_column(String(16), default=RawStatus.RECEIVED)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sender: Mapped[str | None] = mapped_column(String(254), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ticket_reference: Mapped[str | None] = mapped_column(String(20), nullable=True,
                                                          index=True)
    # Why an agent should look (sender_not_customer, auto_submitted, charset_fallback …).
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The whole text with quoted history and signature, shown to agents on request.
    full_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    mailbox: Mapped[Mailbox] = relationship(lazy="joined")

    def flag_list(self) -> list[str]:
        return list(self.flags or [])

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "flags": self.flag_list(),
                "ticket_reference": self.ticket_reference, "error": self.error}


class TicketParticipant(Base):
    """An address a ticket allows besides its customer's: someone the customer copied
    (Cc) on their mail, or an agent added. Their mail joins the ticket, and agent replies
    copy them. `added_by` is `customer` (from the Cc of the customer's mail) or
    `agent:<id>`."""

    __tablename__ = "ticket_participants"
    __table_args__ = (UniqueConstraint("ticket_id", "address",
                                       name="uq_ticket_participants_ticket_id_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    address: Mapped[str] = mapped_column(String(254))  # canonical: lower case
    added_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
