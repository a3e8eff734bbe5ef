"""A macro is personal (owner_id) or a team's (team_id), never both: the service checks."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, UTCDateTime


class Macro(Base):
    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    body_en: Mapped[str] = mapped_column(Text, default="")
    body_zh: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True,
                                                 index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True,
                                                index=True)
    # What applying it also changes on the ticket (None: leaves it).
    set_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    set_priority: Mapped[str | None] = mapped_column(String(10), nullable=True)
    set_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def body(self, lang: str) -> str:
        """The text in `lang`, or the other language's when that one is empty."""
        first, second = (self.body_zh, self.body_en) if lang == "zh-CN" else (
            self.body_en, self.body_zh)
        return first or second
