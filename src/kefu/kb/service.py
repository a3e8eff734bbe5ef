"""Authoring: the only code that writes categories and articles.

Every verb audits, emits `kb.article_changed` and, in the caller's transaction, appends the
changed articles to the index change feed (`kb_index_changes`, which every process's search
index follows) and enqueues `kb.reindex_article` (which applies the feed at once in the process
running it), so the search index follows exactly what was committed.
"""

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core import events, jobs
from kefu.core.audit import Ref, record
from kefu.core.clock import utcnow
from kefu.core.db import dialect_name
from kefu.core.errors import InvalidInput
from kefu.kb.models import ArticleStatus, KbArticle, KbArticleVersion, KbCategory, KbIndexChange
from kefu.kb.schemas import ArticleInput, CategoryInput

ARTICLE_CHANGED = "kb.article_changed"
REINDEX_JOB = "kb.reindex_article"
REINDEX_ALL_JOB = "kb.reindex_all"
HEAD_REFRESH_JOB = "kb.refresh_head"
# Single-article updates leave the classifier head as it was (a new article gets a neutral
# prior, so retrieval alone ranks it); a full rebuild retrains it. One is scheduled this
# long after an edit, once for a burst of edits.
HEAD_REFRESH_DELAY = timedelta(minutes=2)


# A write touching more articles than this (an import, a category reorder) asks for one full
# rebuild: cheaper to apply than that many single-article updates.
FULL_REBUILD_OVER = 100
# Change rows are kept while they are among the newest KEEP_CHANGES or younger than
# KEEP_CHANGES_FOR; a process that lags further behind rebuilds (kefu.kb.index).
KEEP_CHANGES = 10_000
KEEP_CHANGES_FOR = timedelta(days=1)
# PostgreSQL advisory-lock key held by feed writers until they commit (any fixed number).
_FEED_LOCK_KEY = 0x6B62_6964


async def _append_changes(db: AsyncSession, article_ids: list[int | None]) -> None:
    if dialect_name(db) == "postgresql":
        # Readers remember the highest id applied, so ids must become visible in order: a
        # transaction holding id 7 must not commit after another's id 8 was read. Queueing
        # feed writers until commit guarantees it (SQLite already has one writer at a time).
        await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_LOCK_KEY})
    now = utcnow()
    db.add_all([KbIndexChange(article_id=article_id, created_at=now)
                for article_id in article_ids])


async def enqueue_reindex(db: AsyncSession, article_ids: Iterable[int]) -> None:
    """Record that these articles changed, for every process's index."""
    ids = sorted(set(article_ids))
    if not ids:
        return
    await _append_changes(db, list(ids) if len(ids) <= FULL_REBUILD_OVER else [None])
    jobs.enqueue(db, kind=REINDEX_JOB, payload={"article_ids": ids})
    await _schedule_head_refresh(db)


async def _schedule_head_refresh(db: AsyncSession) -> None:
    waiting = await db.execute(select(jobs.Job.id).where(
        jobs.Job.kind == HEAD_REFRESH_JOB, jobs.Job.status == "queued").limit(1))
    if waiting.first() is None:  # two racing edits may queue two: a rebuild too many, no harm
        jobs.enqueue(db, kind=HEAD_REFRESH_JOB, payload={}, delay=HEAD_REFRESH_DELAY)


async def request_full_reindex(*, db: AsyncSession) -> None:
    """Every process rebuilds its index from the database at its next look at the feed."""
    await _append_changes(db, [None])


async def prune_index_changes(*, db: AsyncSession, keep: int = KEEP_CHANGES,
                              keep_for: timedelta = KEEP_CHANGES_FOR) -> int:
    """Delete change rows that are both beyond the newest `keep` and older than `keep_for`.
    The newest row always stays, so readers can tell "nothing new" from "pruned past me".
    Maintenance, not an authoring verb: not audited."""
    newest = (await db.execute(select(func.max(KbIndexChange.id)))).scalar_one_or_none()
    if newest is None:
        return 0
    result = await db.execute(delete(KbIndexChange).where(
        KbIndexChange.id <= newest - max(keep, 1),
        KbIndexChange.created_at < utcnow() - keep_for))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def category_by_slug(db: AsyncSession, slug: str) -> KbCategory:
    found = (await db.execute(select(KbCategory).where(KbCategory.slug == slug))
             ).scalar_one_or_none()
    if found is None:
        raise InvalidInput(f"Unknown category: {slug}")
    return found


async def write_category(db: AsyncSession, data: CategoryInput) -> KbCategory:
    """Insert or update by slug (import and seeding); no audit, the caller audits."""
    found = (await db.execute(select(KbCategory).where(KbCategory.slug == data.slug))
             ).scalar_one_or_none()
    category = found or KbCategory(slug=data.slug)
    renamed = found is not None and (found.title_en, found.title_zh) != (data.title_en,
                                                                         data.title_zh)
    for field in ("position", "title_en", "title_zh", "description_en", "description_zh"):
        setattr(category, field, getattr(data, field))
    db.add(category)
    await db.flush()
    if renamed:  # search results show the category's title from the index's cards
        ids = (await db.execute(select(KbArticle.id).where(
            KbArticle.category_id == category.id))).scalars().all()
        await enqueue_reindex(db, list(ids))
    return category


def _apply_versions(article: KbArticle, data: ArticleInput) -> None:
    now = utcnow()
    keep = []
    for lang, fields in data.versions.items():
        version = article.version(lang) or KbArticleVersion(lang=lang)
        version.title, version.body = fields.title, fields.body
        version.questions, version.updated_at = list(fields.questions), now
        keep.append(version)
    # Assigning the list lets delete-orphan remove a language the author emptied.
    article.versions = sorted(keep, key=lambda v: v.lang)


async def write_article(db: AsyncSession, data: ArticleInput,
                        article: KbArticle | None = None) -> KbArticle:
    """Create or overwrite an article's fields and versions; no audit, no job."""
    category = await category_by_slug(db, data.category)
    now = utcnow()
    if article is None:
        article = KbArticle(slug=data.slug, status=ArticleStatus.DRAFT, created_at=now,
                            versions=[])
    elif article.slug != data.slug:
        raise InvalidInput("An article's address (slug) never changes once created.")
    article.category_id, article.category = category.id, category
    article.position, article.context_keys = data.position, list(data.context_keys)
    article.updated_at = now
    _apply_versions(article, data)
    db.add(article)
    await db.flush()
    return article


async def _changed(db: AsyncSession, actor: Ref, action: str, article: KbArticle,
                   detail: dict[str, object] | None = None) -> None:
    record(db, actor=actor, action=action, target=("kb_article", article.slug),
           detail=detail or {})
    events.emit(db, ARTICLE_CHANGED, slug=article.slug, status=article.status)
    await enqueue_reindex(db, [article.id])


async def create_draft(*, db: AsyncSession, actor: Ref, data: ArticleInput) -> KbArticle:
    taken = (await db.execute(select(KbArticle.id).where(KbArticle.slug == data.slug))
             ).scalar_one_or_none()
    if taken is not None:
        raise InvalidInput("Another article already uses this address (slug).")
    article = await write_article(db, data)
    await _changed(db, actor, "kb.article_created", article, {"languages": sorted(data.versions)})
    return article


async def update_draft(*, db: AsyncSession, actor: Ref, article: KbArticle,
                       data: ArticleInput) -> KbArticle:
    """Save edits to an article readers cannot see yet (a draft): they become its text."""
    if article.is_published:
        raise InvalidInput("This article is published: save your edits as a draft of changes "
                           "or publish them.")
    await write_article(db, data, article)
    await _changed(db, actor, "kb.article_updated", article, {"languages": sorted(data.versions)})
    return article


async def save_pending(*, db: AsyncSession, actor: Ref, article: KbArticle,
                       data: ArticleInput) -> KbArticle:
    """Keep edits to a published article aside; readers and the index see the live text
    until the changes are published."""
    await category_by_slug(db, data.category)  # refuse now what publishing would refuse
    if article.slug != data.slug:
        raise InvalidInput("An article's address (slug) never changes once created.")
    article.pending, article.pending_at = data.model_dump(mode="json"), utcnow()
    record(db, actor=actor, action="kb.article_draft_saved", target=("kb_article", article.slug),
           detail={"languages": sorted(data.versions)})
    return article


def pending_input(article: KbArticle) -> ArticleInput | None:
    return None if article.pending is None else ArticleInput.model_validate(article.pending)


async def publish_changes(*, db: AsyncSession, actor: Ref, article: KbArticle,
                          data: ArticleInput) -> KbArticle:
    """Make `data` the live text of a published article and drop any draft of changes."""
    await write_article(db, data, article)
    article.pending = article.pending_at = None
    article.published_at = utcnow()
    await _changed(db, actor, "kb.article_changes_published", article,
                   {"languages": sorted(data.versions)})
    return article


async def discard_pending(*, db: AsyncSession, actor: Ref, article: KbArticle) -> KbArticle:
    if article.pending is None:
        raise InvalidInput("There is no draft of changes to discard.")
    article.pending = article.pending_at = None
    record(db, actor=actor, action="kb.article_draft_discarded",
           target=("kb_article", article.slug))
    return article


async def publish(*, db: AsyncSession, actor: Ref, article: KbArticle) -> KbArticle:
    if not article.versions:
        raise InvalidInput("Write the article in at least one language before publishing.")
    article.status = ArticleStatus.PUBLISHED
    article.published_at = article.updated_at = utcnow()
    await _changed(db, actor, "kb.article_published", article)
    return article


async def unpublish(*, db: AsyncSession, actor: Ref, article: KbArticle) -> KbArticle:
    if article.pending is not None:
        # Either text could become the draft; the author says which, nothing is lost.
        raise InvalidInput("This article has a draft of changes: publish or discard it before "
                           "unpublishing.")
    article.status = ArticleStatus.DRAFT
    article.updated_at = utcnow()
    await _changed(db, actor, "kb.article_unpublished", article)
    return article


async def reorder_categories(*, db: AsyncSession, actor: Ref, slugs: list[str]) -> None:
    """Positions follow the order of `slugs`; categories not listed keep theirs after them."""
    categories = (await db.execute(select(KbCategory))).scalars().all()
    by_slug = {c.slug: c for c in categories}
    unknown = [s for s in slugs if s not in by_slug]
    if unknown or len(set(slugs)) != len(slugs):
        raise InvalidInput("The category order does not match the categories.")
    rest = sorted((c for c in categories if c.slug not in slugs), key=lambda c: c.position)
    for position, category in enumerate([*(by_slug[s] for s in slugs), *rest], start=1):
        category.position = position
    record(db, actor=actor, action="kb.categories_reordered", target=("kb_category", None),
           detail={"order": slugs})
    events.emit(db, ARTICLE_CHANGED, slug=None, status=None)
    # Ranking ties break on category order, so the affected articles are re-indexed too.
    ids = (await db.execute(select(KbArticle.id))).scalars().all()
    await enqueue_reindex(db, ids)
