"""Chat sites, the live state of each chat, and the agents' chat presence.

A chat is a ticket (channel `chat`); the row here holds what only a live conversation
has: its one owner (bot, queue, agent), its queue entry and the last sequence number of
its messages (`ticket_messages.seq`).
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, UTCDateTime


class Owner(StrEnum):
    BOT = "bot"
    QUEUE = "queue"
    AGENT = "agent"
    ENDED = "ended"


class Outcome(StrEnum):
    BOT_RESOLVED = "bot_resolved"  # the customer said the bot's answer solved it
    RESOLVED = "resolved"  # an agent resolved it
    CONVERTED = "converted"  # an agent kept it open as a ticket for investigation
    LEFT_MESSAGE = "left_message"  # no agent available: the customer left a message
    ABANDONED = "abandoned"  # the customer ended it (or went away) before an answer


class ProblemType(StrEnum):
    ACCOUNT = "account"
    DEPOSIT_WITHDRAWAL = "deposit_withdrawal"
    TRADING = "trading"
    SECURITY = "security"
    API = "api"
    KYC = "kyc"
    OTHER = "other"


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class ChatSite(Base):
    """A site or app that embeds the widget: its public key, the secret that signs its
    users' UIDs, and the origins its pages are served from."""

    __tablename__ = "chat_sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    secret: Mapped[str] = mapped_column(String(128))
    verified_only: Mapped[bool] = mapped_column(Boolean, default=False)
    origins: Mapped[str] = mapped_column(Text, default="")  # space-separated; empty: any
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def allows_origin(self, origin: str | None) -> bool:
        allowed = self.origins.split()
        return not allowed or origin in allowed


QUEUED = "owner = 'queue'"


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (
        # The queue, in the order it is served: urgent first, then first come.
        Index("ix_chats_queue", "team_id", "urgent", "queued_at",
              postgresql_where=text(QUEUED), sqlite_where=text(QUEUED)),
        Index("ix_chats_agent_owner", "agent_id", "owner"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("chat_sites.id"))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    owner: Mapped[str] = mapped_column(String(10), default=Owner.BOT)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    problem_type: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(8))
    verified_uid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Answers the customer said did not help, in a row: two hand the chat over.
    rejections: Mapped[int] = mapped_column(Integer, default=0)
    handoff_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The agent the chat is offered to, and since when: not accepted in time, it goes on.
    offered_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatAgent(Base):
    """An agent's chat presence and capacity. `active` counts the chats they own or are
    offered; it changes only in the transaction that changes those chats."""

    __tablename__ = "chat_agents"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    presence: Mapped[str] = mapped_column(String(10), default=Presence.OFFLINE)
    capacity: Mapped[int] = mapped_column(Integer, default=3)
    active: Mapped[int] = mapped_column(Integer, default=0)
    idle_since: Mapped[datetime] = mapped_column(UTCDateTime)
    # The languages they chat in ("en zh-CN"): a chat goes to a speaker of its language
    # first, to anyone free when no speaker is.
    languages: Mapped[str] = mapped_column(String(32), default="en zh-CN")


class ChatWait(Base):
    """How long each recent chat waited in the queue: the estimate shown to the next."""

    __tablename__ = "chat_waits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    waited_seconds: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
