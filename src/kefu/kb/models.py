"""Help-centre tables: categories, articles with one version per language, and feedback.

Feedback rows (views, votes, deflections) carry timestamps rather than counters so the
hot-questions ranking can weight recent activity higher and analytics can slice by time.
"""

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.core.db import Base, UTCDateTime

KB_LANGUAGES = ("en", "zh-CN")


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class KbCategory(Base):
    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_en: Mapped[str] = mapped_column(String(200))
    title_zh: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh-CN" and self.title_zh else self.title_en

    def description(self, lang: str) -> str:
        return self.description_zh if lang == "zh-CN" and self.description_zh \
            else self.description_en


class KbArticle(Base):
    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The slug is the stable public address; links between articles use it.
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("kb_categories.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=ArticleStatus.DRAFT, index=True)
    context_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Edits to a published article saved as a draft: the whole authoring input (as
    # kb.schemas.ArticleInput JSON), kept aside so readers go on seeing the live text.
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    pending_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    category: Mapped[KbCategory] = relationship(lazy="joined")
    versions: Mapped[list["KbArticleVersion"]] = relationship(
        lazy="selectin", order_by="KbArticleVersion.lang", cascade="all, delete-orphan")

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    def version(self, lang: str) -> "KbArticleVersion | None":
        return next((v for v in self.versions if v.lang == lang), None)

    def best_version(self, lang: str) -> "KbArticleVersion":
        """The version in `lang`, else the other one (callers show a fallback note)."""
        chosen = self.version(lang) or (self.versions[0] if self.versions else None)
        if chosen is None:
            raise LookupError(f"article {self.slug} has no version")
        return chosen


class KbArticleVersion(Base):
    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "lang"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbArticleView(Base):
    __tablename__ = "kb_article_views"
    __table_args__ = (Index("ix_kb_article_views_at_article", "at", "article_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"))
    lang: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbVote(Base):
    """One vote per visitor and article; a second vote changes the first."""

    __tablename__ = "kb_votes"
    __table_args__ = (UniqueConstraint("article_id", "voter"),
                      Index("ix_kb_votes_at_article", "at", "article_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"))
    # SHA-256 of a random cookie value: enough to de-duplicate, useless to identify anyone.
    voter: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbDeflection(Base):
    """A suggestion opened from the ticket form; it counts as deflected only if the same
    customer files no ticket within the window after opening it (see kb.queries)."""

    __tablename__ = "kb_deflections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class KbProposedQuestion(Base):
    """A question the bot answered with this article and the trader confirmed solved."""

    __tablename__ = "kb_proposed_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(32), default="bot")
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)

    article: Mapped[KbArticle] = relationship(lazy="joined")


class KbIndexChange(Base):
    """The search-index change feed: one row per article a write changed (written in that
    write's transaction), or one row with no article for "rebuild everything". Every
    process's index applies the rows newer than the last one it applied (kefu.kb.index), so
    web processes see edits made in another process without a restart or another service.
    """

    __tablename__ = "kb_index_changes"
    # Ids must only grow (readers remember the last one applied); plain SQLite rowids may
    # be reused after the newest rows are deleted.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key: the row must outlive the article, since it tells readers to drop it.
    article_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
