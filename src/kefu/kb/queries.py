"""Read-only help-centre queries for pages, JSON endpoints and the author console."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from kefu.core.clock import utcnow
from kefu.core.errors import NotFound
from kefu.kb.feedback import DEFLECTION_WINDOW
from kefu.kb.models import (
    ArticleStatus,
    KbArticle,
    KbArticleView,
    KbCategory,
    KbDeflection,
    KbProposedQuestion,
    KbVote,
    ProposalStatus,
)

HOT_SPAN = timedelta(days=30)
PUBLISHED = KbArticle.status == ArticleStatus.PUBLISHED


async def categories(db: AsyncSession) -> Sequence[KbCategory]:
    return (await db.execute(select(KbCategory).order_by(KbCategory.position, KbCategory.slug))
            ).scalars().all()


async def published_counts(db: AsyncSession) -> dict[int, int]:
    rows = await db.execute(select(KbArticle.category_id, func.count(KbArticle.id))
                            .where(PUBLISHED).group_by(KbArticle.category_id))
    return {category_id: count for category_id, count in rows}


async def published_article(db: AsyncSession, slug: str) -> KbArticle:
    article = (await db.execute(select(KbArticle).where(KbArticle.slug == slug[:100], PUBLISHED))
               ).scalar_one_or_none()
    if article is None:
        raise NotFound()
    return article


async def category_with_articles(db: AsyncSession, slug: str
                                 ) -> tuple[KbCategory, Sequence[KbArticle]]:
    category = (await db.execute(select(KbCategory).where(KbCategory.slug == slug[:64]))
                ).scalar_one_or_none()
    if category is None:
        raise NotFound()
    articles = (await db.execute(select(KbArticle).where(
        KbArticle.category_id == category.id, PUBLISHED)
        .order_by(KbArticle.position, KbArticle.slug))).scalars().all()
    return category, articles


async def articles_by_ids(db: AsyncSession, ids: Sequence[int]) -> dict[int, KbArticle]:
    if not ids:
        return {}
    rows = (await db.execute(select(KbArticle).where(KbArticle.id.in_(ids), PUBLISHED))
            ).scalars().all()
    return {a.id: a for a in rows}


async def related(db: AsyncSession, article: KbArticle, limit: int = 5) -> list[KbArticle]:
    """Same category first, nearest in the author's order; then shared context keys."""
    rows = (await db.execute(select(KbArticle).where(PUBLISHED, KbArticle.id != article.id))
            ).scalars().all()
    keys = set(article.context_keys)

    def closeness(other: KbArticle) -> tuple[int, int, int]:
        same = other.category_id == article.category_id
        shared = len(keys & set(other.context_keys))
        return (0 if same else 1, -shared, abs(other.position - article.position))

    candidates = [a for a in rows if a.category_id == article.category_id
                  or keys & set(a.context_keys)]
    return sorted(candidates, key=closeness)[:limit]


async def by_context(db: AsyncSession, key: str, limit: int = 12) -> list[KbArticle]:
    """Articles tagged `key`, those listing it first (their main topic) first."""
    # Context keys live in a JSON list; filtering in Python keeps one query for both
    # databases, and a help centre has hundreds of articles, not millions.
    rows = (await db.execute(select(KbArticle).join(KbCategory).where(PUBLISHED)
                             .order_by(KbCategory.position, KbArticle.position, KbArticle.slug))
            ).scalars().all()
    tagged = [a for a in rows if key in a.context_keys]
    return sorted(tagged, key=lambda a: a.context_keys.index(key))[:limit]


def _recency_weight(at: InstrumentedAttribute[datetime], now: datetime,
                    weight: int) -> object:
    # Buckets rather than exponential decay: plain CASE works the same on SQLite and
    # PostgreSQL. Activity today counts 7x, this week 3x, this month 1x.
    return func.sum(case((at >= now - timedelta(days=1), 7 * weight),
                         (at >= now - timedelta(days=7), 3 * weight), else_=weight))


async def hot_scores(db: AsyncSession, now: datetime | None = None) -> dict[int, float]:
    now = now or utcnow()
    since = now - HOT_SPAN
    scores: dict[int, float] = defaultdict(float)
    views = await db.execute(
        select(KbArticleView.article_id, _recency_weight(KbArticleView.at, now, 1))  # type: ignore[call-overload]
        .where(KbArticleView.at >= since).group_by(KbArticleView.article_id))
    # A helpful vote is a stronger signal than a view; a not-helpful one still shows demand.
    votes = await db.execute(
        select(KbVote.article_id, _recency_weight(KbVote.at, now, 1),  # type: ignore[call-overload]
               func.sum(case((KbVote.helpful.is_(True), 2), else_=0)))
        .where(KbVote.at >= since).group_by(KbVote.article_id))
    for article_id, score in views:
        scores[article_id] += float(score or 0)
    for article_id, score, helpful_bonus in votes:
        scores[article_id] += 2 * float(score or 0) + float(helpful_bonus or 0)
    return scores


async def hot_articles(db: AsyncSession, limit: int = 8, now: datetime | None = None
                       ) -> list[KbArticle]:
    scores = await hot_scores(db, now)
    rows = (await db.execute(select(KbArticle).join(KbCategory).where(PUBLISHED)
                             .order_by(KbCategory.position, KbArticle.position))).scalars().all()
    # Stable sort: with no activity yet, the authors' order is the ranking.
    return sorted(rows, key=lambda a: -scores.get(a.id, 0.0))[:limit]


async def all_articles(db: AsyncSession) -> Sequence[KbArticle]:
    return (await db.execute(select(KbArticle).join(KbCategory)
                             .order_by(KbCategory.position, KbArticle.position, KbArticle.slug))
            ).scalars().all()


async def article_by_id(db: AsyncSession, article_id: int) -> KbArticle:
    article = await db.get(KbArticle, article_id)
    if article is None:
        raise NotFound()
    return article


@dataclass
class Feedback:
    views: int = 0
    helpful: int = 0
    not_helpful: int = 0
    deflected: int = 0
    followed_by_ticket: int = 0
    pending: int = 0


@dataclass
class FeedbackReport:
    per_article: dict[int, Feedback] = field(default_factory=lambda: defaultdict(Feedback))
    total: Feedback = field(default_factory=Feedback)


# (db, customer ids, since) -> (customer id, created at) of each ticket those customers filed
# since then. Passed in by the caller (kefu.tickets.queries.filed_since) because the help
# centre sits below tickets: it must not import them.
TicketsFiled = Callable[[AsyncSession, Collection[int], datetime],
                        Awaitable[Iterable[tuple[int, datetime]]]]


async def feedback_report(db: AsyncSession, filed: TicketsFiled, now: datetime | None = None
                          ) -> FeedbackReport:
    """Views, votes and deflections over the last 30 days, per article and in total;
    `filed` tells which suggestions were followed by a ticket."""
    now = now or utcnow()
    since = now - HOT_SPAN
    report = FeedbackReport()
    views = await db.execute(select(KbArticleView.article_id, func.count(KbArticleView.id))
                             .where(KbArticleView.at >= since).group_by(KbArticleView.article_id))
    for article_id, count in views:
        report.per_article[article_id].views = count
    votes = await db.execute(select(KbVote.article_id, KbVote.helpful, func.count(KbVote.id))
                             .where(KbVote.at >= since)
                             .group_by(KbVote.article_id, KbVote.helpful))
    for article_id, helpful, count in votes:
        target = report.per_article[article_id]
        if helpful:
            target.helpful = count
        else:
            target.not_helpful = count
    await _deflections(db, report, filed, since, now)
    for item in report.per_article.values():
        for name in ("views", "helpful", "not_helpful", "deflected", "followed_by_ticket",
                     "pending"):
            setattr(report.total, name, getattr(report.total, name) + getattr(item, name))
    return report


async def _deflections(db: AsyncSession, report: FeedbackReport, filed_by: TicketsFiled,
                       since: datetime, now: datetime) -> None:
    events = (await db.execute(select(KbDeflection).where(KbDeflection.opened_at >= since))
              ).scalars().all()
    customers = {e.customer_id for e in events}
    filed: dict[int, list[datetime]] = defaultdict(list)
    if customers:
        for customer_id, created_at in await filed_by(db, customers, since):
            filed[customer_id].append(created_at)
    for e in events:
        end = e.opened_at + DEFLECTION_WINDOW
        target = report.per_article[e.article_id]
        if any(e.opened_at <= at <= end for at in filed[e.customer_id]):
            target.followed_by_ticket += 1
        elif end > now:
            target.pending += 1  # the customer may still file a ticket: not counted yet
        else:
            target.deflected += 1


async def pending_proposals(db: AsyncSession) -> Sequence[KbProposedQuestion]:
    return (await db.execute(select(KbProposedQuestion)
                             .where(KbProposedQuestion.status == ProposalStatus.PENDING)
                             .order_by(KbProposedQuestion.created_at).limit(200))
            ).scalars().all()


async def proposal_by_id(db: AsyncSession, proposal_id: int) -> KbProposedQuestion:
    proposal = await db.get(KbProposedQuestion, proposal_id)
    if proposal is None:
        raise NotFound()
    return proposal
