"""What triage found in a ticket: its transfer facts and the last status lookup.

Facts live in their own table rather than a JSON column on `tickets`: a row per value
with a plain `search` column gives an indexed exact match on SQLite and PostgreSQL alike
(a JSON column would need jsonb + GIN on one and json_each on the other), later replies
append rows, and the hot `tickets` INSERT (kefu.tickets.writes) stays as it is.
"""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, UTCDateTime


class TicketFact(Base):
    """One fact (kind txid/address/network/coin/amount/order_id/memo/uid) or one flag
    (kind "flag", `flag` naming it). Written whole by `kefu.triage.facts`: no column
    has a Python-side default, so the PostgreSQL direct path may write it too."""

    __tablename__ = "ticket_facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))
    search: Mapped[str] = mapped_column(String(200), index=True)
    chain: Mapped[str | None] = mapped_column(String(16), nullable=True)
    valid: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    flag: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TransferCheck(Base):
    """A deposit/withdrawal status the exchange gave for a ticket's TxID or order id.
    The newest one per ticket is shown to the agent and to the customer."""

    __tablename__ = "transfer_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # deposit | withdrawal
    lookup: Mapped[str] = mapped_column(String(200))  # the TxID or order id asked about
    found: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(32))  # see base.TransferStatus; "error"
    confirmations: Mapped[int | None] = mapped_column(Integer, nullable=True)
    required_confirmations: Mapped[int | None] = mapped_column(Integer, nullable=True)
    credited: Mapped[bool] = mapped_column(Boolean)
    on_hold: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    checked_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # agent id
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
