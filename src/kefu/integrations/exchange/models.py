"""Self-service account freezes requested through Kefu, and what the exchange answered."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, UTCDateTime


class FreezeStatus(StrEnum):
    REQUESTED = "requested"  # job queued or being retried
    FROZEN = "frozen"
    FAILED = "failed"  # the exchange refused (e.g. unknown UID); the security team follows up


class UidSource(StrEnum):
    ACCOUNT = "account"  # the UID the exchange vouched for when the customer signed in


class AccountFreeze(Base):
    __tablename__ = "account_freezes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    uid: Mapped[str] = mapped_column(String(64), index=True)
    uid_source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=FreezeStatus.REQUESTED)
    # Generated once per request and reused by every retry, so the exchange freezes once.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_reference: Mapped[str | None] = mapped_column(String(20), nullable=True)
    exchange_reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
