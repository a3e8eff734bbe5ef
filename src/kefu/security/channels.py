"""The official-channel registry: the table, and the only code that writes it.

Admins list the web domains, email senders, Telegram and X accounts, phone numbers and
agent IDs that are really ours; /verify and the bot answer from it (kefu.security.verify).
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kefu.accounts.models import Agent
from kefu.core import events
from kefu.core.audit import record
from kefu.core.clock import utcnow
from kefu.core.db import Base, UTCDateTime
from kefu.core.errors import Conflict, InvalidInput, NotFound
from kefu.security.verify import ChannelKind, OfficialEntry, Registry, canonical_value

CHANNEL_ADDED = "security.channel_added"
CHANNEL_REMOVED = "security.channel_removed"
MAX_NOTE = 200

DEMO_CHANNELS = (
    (ChannelKind.WEB_DOMAIN, "kefu.example", "Main website and help centre"),
    (ChannelKind.EMAIL_ADDRESS, "support@kefu.example", "General support mailbox"),
    (ChannelKind.EMAIL_ADDRESS, "security@kefu.example", "Security incidents"),
    (ChannelKind.TELEGRAM, "@KefuExchange", "Official Telegram channel"),
    (ChannelKind.X, "@KefuExchange", "Official X account"),
    (ChannelKind.PHONE, "+852 2345 6789", "Hong Kong hotline (we never call first)"),
)


class OfficialChannel(Base):
    __tablename__ = "official_channels"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_official_channels_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(320))  # normalised, see verify.canonical_value
    display: Mapped[str] = mapped_column(String(320))
    note: Mapped[str] = mapped_column(String(MAX_NOTE), default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


async def list_channels(*, db: AsyncSession) -> list[OfficialChannel]:
    query = select(OfficialChannel).order_by(OfficialChannel.kind, OfficialChannel.value)
    return list((await db.execute(query)).scalars().all())


async def load_registry(*, db: AsyncSession) -> Registry:
    rows = await list_channels(db=db)
    return Registry(tuple(OfficialEntry(ChannelKind(r.kind), r.value, r.display, r.note)
                          for r in rows))


async def add_channel(
    *, db: AsyncSession, actor: Agent | None, kind: str, value: str, note: str = ""
) -> OfficialChannel:
    try:
        channel_kind = ChannelKind(kind)
    except ValueError as exc:
        raise InvalidInput("Choose a channel type.") from exc
    try:
        normalised, display = canonical_value(channel_kind, value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc  # canonical_value's messages are public
    existing = await db.execute(select(OfficialChannel.id).where(
        OfficialChannel.kind == channel_kind, OfficialChannel.value == normalised))
    if existing.scalar_one_or_none() is not None:
        raise Conflict("This channel is already listed.")
    row = OfficialChannel(kind=channel_kind.value, value=normalised, display=display,
                          note=note.strip()[:MAX_NOTE], added_by_id=actor.id if actor else None,
                          added_at=utcnow())
    db.add(row)
    await db.flush()
    record(db, actor=_actor(actor), action="security.channel_added",
           target=("official_channel", row.id), detail={"kind": row.kind, "value": row.value})
    events.emit(db, CHANNEL_ADDED, kind=row.kind, value=row.value)
    return row


async def remove_channel(*, db: AsyncSession, actor: Agent, channel_id: int) -> None:
    row = await db.get(OfficialChannel, channel_id)
    if row is None:
        raise NotFound()
    await db.delete(row)
    record(db, actor=_actor(actor), action="security.channel_removed",
           target=("official_channel", channel_id), detail={"kind": row.kind, "value": row.value})
    events.emit(db, CHANNEL_REMOVED, kind=row.kind, value=row.value)


async def seed_demo_channels(*, db: AsyncSession) -> int:
    """Add the demo entries on a desk whose registry is empty; returns how many. Idempotent:
    an admin who removed them all and wants none sets KEFU_SEED_DEMO=false."""
    if await list_channels(db=db):
        return 0
    for kind, value, note in DEMO_CHANNELS:
        await add_channel(db=db, actor=None, kind=kind, value=value, note=note)
    return len(DEMO_CHANNELS)


def _actor(agent: Agent | None) -> tuple[str, int | None]:
    return ("agent", agent.id) if agent else ("system", None)
