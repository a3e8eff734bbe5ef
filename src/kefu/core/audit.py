"""Audit log: who did what to which row. Rows are only ever added, never edited."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.clock import utcnow
from kefu.core.db import Base, UTCDateTime

Ref = tuple[str, int | str | None]


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


def record(
    db: AsyncSession,
    *,
    actor: Ref,
    action: str,
    target: Ref | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add an entry to the caller's transaction, so the log and the change commit together.

    `detail` must never hold secrets or message bodies: kinds and field names only.
    """
    entry = AuditEntry(**entry_values(actor=actor, action=action, target=target,
                                      detail=detail, ip=ip))
    db.add(entry)
    return entry


def entry_values(
    *,
    actor: Ref,
    action: str,
    target: Ref | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> dict[str, Any]:
    """The columns of one audit entry, for writers that insert it with their own statement."""
    return {
        "at": utcnow(),
        "actor_type": actor[0],
        "actor_id": None if actor[1] is None else str(actor[1]),
        "action": action,
        "target_type": target[0] if target else None,
        "target_id": None if not target or target[1] is None else str(target[1]),
        "detail": detail or {},
        "ip": ip,
    }
