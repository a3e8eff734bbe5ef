"""The help-centre search index: one holder per process and database.

It is built from the published article versions on first use (the help router warms it
at startup). The engine's document id is the article id (each language is a version of that
document), so a hit maps straight back to the article row.

Several processes serve the same database (`kefu run` replicas, `kefu worker`, the CLI), and
each has its own index, so writes reach them through a change feed in the database rather
than through whichever process ran a job: every write appends `kb_index_changes` rows in its
own transaction (kefu.kb.service.enqueue_reindex). Each holder remembers the last row it
applied; a search looks for newer rows at most every POLL_SECONDS (one min/max query on the
primary key) and applies them: a few articles in place, otherwise (a full-rebuild row, a
large backlog, rows pruned before this process saw them) by rebuilding in the background
while searches keep using the current index. The `kb.reindex_article` job applies the feed at
once in the process that runs it, and prunes it.

Holders are keyed by database URL because tests run two desks in one process.
"""

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kefu.core import jobs
from kefu.kb.batching import Batcher
from kefu.kb.markdown import clean_snippet, plain_text, shorten
from kefu.kb.models import ArticleStatus, KbArticle, KbIndexChange
from kefu.kb.search.engine import SearchEngine
from kefu.kb.search.hits import Hit
from kefu.kb.service import (
    HEAD_REFRESH_JOB,
    REINDEX_ALL_JOB,
    REINDEX_JOB,
    prune_index_changes,
    request_full_reindex,
)

log = structlog.get_logger(__name__)
MAX_QUERY = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
Factory = async_sessionmaker[AsyncSession]
# How stale another process's edits may look here, against one cheap query per interval.
POLL_SECONDS = 2.0
# More pending changes than this are applied by a rebuild, which re-embeds everything in one
# batch and retrains the classifier head, instead of article by article.
MAX_INCREMENTAL = 200
# A hit below this share of the (probability-like) score is the tail, not a result.
MIN_SHARE = 0.05


def new_engine() -> SearchEngine:
    # The embedding model is loaded once per process by the engine module, so several
    # holders (tests run two desks) share it.
    return SearchEngine()


@dataclass(frozen=True)
class ArticleCard:
    """What a search result shows of an article, prepared when the article is indexed:
    its Markdown is rendered once per change, never per search, and a search needs no
    database read (the bot and search-as-you-type ask many questions a second)."""

    slug: str
    category_titles: tuple[str, str]  # (English, Chinese); Chinese may be empty
    versions: dict[str, tuple[str, str]]  # lang -> (title, plain-text excerpt)

    def shown_in(self, lang: str) -> tuple[str, str, str, str]:
        """(title, version lang, excerpt, category title) for a reader of `lang`: their
        language's version, else the other one (as KbArticle.best_version)."""
        version_lang = lang if lang in self.versions else next(iter(self.versions))
        title, excerpt = self.versions[version_lang]
        english, chinese = self.category_titles
        return title, version_lang, excerpt, chinese if lang == "zh-CN" and chinese else english


@dataclass(frozen=True)
class ArticleHit:
    article_id: int
    lang: str
    score: float
    snippet: str  # HTML: escaped text with <mark>, re-sanitised here
    card: ArticleCard


@dataclass(frozen=True)
class IndexAnswer:
    """The hits for a question, the engine's confidence in the first, and whether that
    is too low to answer with (the bot hands over to a human)."""

    hits: list[ArticleHit]
    confidence: float
    declined: bool


NO_ANSWER = IndexAnswer([], 0.0, True)


@dataclass(frozen=True)
class Found:
    """A search under the engine's confidence decision (the one the bot hands over on)."""

    hits: list[ArticleHit]  # none when declined; else those with a real share of the score
    declined: bool  # the best hit is below the threshold: nothing matched


def clean_query(query: str) -> str:
    """Bounded, single-line query text: a 10,000-character paste costs no more than 200."""
    return " ".join(_CONTROL.sub(" ", query[: MAX_QUERY * 4]).split())[:MAX_QUERY]


Cards = dict[int, ArticleCard]


def _add(engine: SearchEngine, cards: Cards, article: KbArticle) -> None:
    versions = {}
    for version in article.versions:
        text = plain_text(version.body)
        engine.add_document(str(article.id), lang=version.lang, title=version.title,
                            body=text, questions=list(version.questions))
        versions[version.lang] = (version.title, shorten(text))
    category = article.category
    cards[article.id] = ArticleCard(article.slug, (category.title_en, category.title_zh or ""),
                                    versions)


def _replace(engine: SearchEngine, cards: Cards, article_ids: Sequence[int],
             articles: Sequence[KbArticle]) -> None:
    """Drop the articles, re-add those still published, and embed them now (the engine
    locks each call, so searches in other threads see the old or the new version)."""
    found = {a.id: a for a in articles}
    for article_id in article_ids:
        engine.remove_document(str(article_id))
        article = found.get(article_id)
        if article is not None and article.is_published and article.versions:
            _add(engine, cards, article)
    engine.flush()
    for article_id in article_ids:  # after the flush: a hit never lacks its card
        article = found.get(article_id)
        if article is None or not article.is_published or not article.versions:
            cards.pop(article_id, None)


def _build(engine: SearchEngine, cards: Cards, articles: Sequence[KbArticle]) -> None:
    for article in articles:
        if article.versions:
            _add(engine, cards, article)
    engine.flush()  # embed everything now rather than on the first reader's search
    # The ways traders ask for each article (authors' examples, in both languages, plus
    # bot questions authors accepted) train the classifier head over the retrieval.
    labelled = [(question, str(article.id)) for article in articles
                for version in article.versions for question in version.questions]
    train_head(engine, labelled)


# A classifier over thousands of classes costs minutes and gigabytes to train (measured:
# 10,000 articles, 392 s and 8 GB peak) for little gain over retrieval at that size.
HEAD_MAX_ARTICLES = 1_000


def train_head(engine: SearchEngine, labelled: list[tuple[str, str]]) -> bool:
    """Fit the classifier head when the help centre is small enough to be worth it."""
    articles = len({label for _, label in labelled})
    if not 2 <= articles <= HEAD_MAX_ARTICLES:
        return False
    engine.fit_head(labelled)
    return True


@dataclass(frozen=True)
class Pending:
    """What the feed holds beyond a holder's last applied row."""

    rebuild: bool
    last_id: int = 0
    article_ids: list[int] = field(default_factory=list)


async def read_pending(db: AsyncSession, applied: int) -> Pending | None:
    """None when nothing is new. The usual case costs one min/max query on the primary key."""
    oldest, newest = (await db.execute(
        select(func.min(KbIndexChange.id), func.max(KbIndexChange.id)))).one()
    newest = newest or 0
    if newest == applied:
        return None
    if newest < applied or (oldest or 0) > applied + 1:
        # The feed went backwards (a restored database) or rows after ours were pruned:
        # only a rebuild is sure to include them. (A PostgreSQL id lost to a rolled-back
        # write can look like a pruned row; the cost is one needless rebuild.)
        return Pending(rebuild=True)
    rows = (await db.execute(
        select(KbIndexChange.id, KbIndexChange.article_id).where(KbIndexChange.id > applied)
        .order_by(KbIndexChange.id).limit(MAX_INCREMENTAL + 1))).all()
    ids = [article_id for _, article_id in rows]
    if not rows or len(rows) > MAX_INCREMENTAL or None in ids:
        return Pending(rebuild=True)
    return Pending(False, rows[-1][0], sorted({i for i in ids if i is not None}))


async def _feed_position(db: AsyncSession) -> int:
    return (await db.execute(select(func.max(KbIndexChange.id)))).scalar_one_or_none() or 0


class KbIndex:
    """`poll_seconds`, `clock` and `make_engine` are for tests (a fake clock, a lexical
    engine that builds in a second); the server uses the defaults."""

    def __init__(self, *, poll_seconds: float = POLL_SECONDS,
                 clock: Callable[[], float] = time.monotonic,
                 make_engine: Callable[[], SearchEngine] = new_engine) -> None:
        self.engine: SearchEngine | None = None
        self.cards: Cards = {}  # article id -> card, kept in step with the engine
        self.documents = 0
        self.applied_change = 0  # the last feed row this index reflects
        self.poll_seconds = poll_seconds
        self._clock = clock
        self._make_engine = make_engine
        self._next_poll = 0.0
        # Serialises building and applying; searches never wait on it once built.
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None
        self._batcher: Batcher[tuple[str, int], IndexAnswer] = Batcher(self._answer_all)

    @property
    def built(self) -> bool:
        return self.engine is not None

    async def ensure_built(self, factory: Factory) -> SearchEngine:
        if self.engine is None:
            async with self._lock:
                if self.engine is None:
                    await self._rebuild(factory)
        assert self.engine is not None
        return self.engine

    async def rebuild(self, factory: Factory) -> int:
        async with self._lock:
            return await self._rebuild(factory)

    async def _rebuild(self, factory: Factory) -> int:
        """Build a fresh engine off to the side, then swap it in: searches never see a
        half-built index."""
        async with factory() as db:
            # The feed position is read before the articles, so every change up to it is in
            # what we read; later ones are applied again, which is harmless.
            position = await _feed_position(db)
            articles = (await db.execute(select(KbArticle).where(
                KbArticle.status == ArticleStatus.PUBLISHED))).scalars().all()
        engine, cards = self._make_engine(), Cards()
        # Embedding a few hundred documents can take seconds: keep the event loop free.
        await asyncio.to_thread(_build, engine, cards, articles)
        self.engine, self.cards, self.applied_change = engine, cards, position
        self.documents = sum(len(a.versions) for a in articles)
        log.info("kb_index_built", articles=len(articles), documents=self.documents,
                 change=position)
        return self.documents

    async def catch_up(self, factory: Factory) -> None:
        """Apply every change committed so far, rebuilding here if needed (job handlers)."""
        if self.engine is None:
            return  # not built in this process; the first search builds it from the DB
        async with self._lock:
            await self._apply_pending(factory, rebuild_now=True)

    async def _apply_pending(self, factory: Factory, *, rebuild_now: bool) -> None:
        async with factory() as db:
            pending = await read_pending(db, self.applied_change)
            if pending is None or pending.rebuild:
                articles: Sequence[KbArticle] = []
            else:
                # Read after the change rows, so at least as new as the changes they name.
                articles = (await db.execute(select(KbArticle).where(
                    KbArticle.id.in_(pending.article_ids)))).scalars().all()
        if pending is None:
            return
        if not pending.rebuild:
            assert self.engine is not None
            await asyncio.to_thread(_replace, self.engine, self.cards, pending.article_ids,
                                    articles)
            self.applied_change = pending.last_id
        elif rebuild_now:
            await self._rebuild(factory)
        else:
            self._background = asyncio.create_task(self._rebuild_in_background(factory))

    async def _rebuild_in_background(self, factory: Factory) -> None:
        try:
            await self.rebuild(factory)
        except Exception as exc:  # the old index keeps serving; the next poll tries again
            log.warning("kb_index_rebuild_failed", error=str(exc))

    async def _poll(self, factory: Factory) -> None:
        """Apply other processes' changes, at most every poll_seconds. Never makes a search
        wait: skipped while another search applies changes or a rebuild runs."""
        now = self._clock()
        busy = self._lock.locked() or (self._background is not None
                                       and not self._background.done())
        if now < self._next_poll or busy:
            return
        self._next_poll = now + self.poll_seconds
        try:
            async with self._lock:
                await self._apply_pending(factory, rebuild_now=False)
        except Exception as exc:  # a stale index beats a failed search; the next poll retries
            log.warning("kb_index_poll_failed", error=str(exc))

    async def search(self, factory: Factory, query: str, *, limit: int = 10
                     ) -> list[ArticleHit]:
        """One hit per article; the snippet comes from the version in the query's language
        (so the highlighted words are the ones typed); callers title it in the reader's."""
        return (await self.answer(factory, query, limit=limit)).hits

    async def answer(self, factory: Factory, query: str, *, limit: int = 10) -> IndexAnswer:
        """Hits with the engine's confidence. Questions asked while the engine is busy
        are answered together in its next call (`kefu.kb.batching`)."""
        text = clean_query(query)
        if not text:
            return NO_ANSWER
        await self.ensure_built(factory)
        await self._poll(factory)
        try:
            return await self._batcher.ask((text, limit))
        except Exception as exc:  # a query must never break the page; the log keeps it
            log.warning("kb_search_failed", error=str(exc))
            return NO_ANSWER

    def _answer_all(self, asked: Sequence[tuple[str, int]]) -> list[IndexAnswer]:
        """In a worker thread: one engine call for every question of the batch."""
        engine, cards = self.engine, self.cards  # the same build for the whole batch
        assert engine is not None
        answers = engine.answer_many([text for text, _ in asked],
                                     limit=max(limit for _, limit in asked))
        return [IndexAnswer(_article_hits(answer.hits[:limit], cards), answer.confidence,
                            answer.declined)
                for answer, (_, limit) in zip(answers, asked, strict=True)]


    async def find(self, factory: Factory, query: str, *, limit: int = 100) -> Found:
        """Like `search`, judged by the engine's confidence decision: declined (no hits)
        when the best is below it; otherwise the hits holding at least MIN_SHARE of the
        score (blended scores behave like probabilities over the articles, so the long
        tail of near-zero hits is not a match and is not counted)."""
        answer = await self.answer(factory, query, limit=limit)
        if answer.declined:
            return Found([], True)
        hits = [h for h in answer.hits if h.score >= MIN_SHARE]
        return Found(hits, not hits)


def _article_hits(hits: Sequence[Hit], cards: Cards) -> list[ArticleHit]:
    found = ((h, cards.get(int(h.doc_id))) for h in hits if h.doc_id.isdigit())
    return [ArticleHit(int(hit.doc_id), hit.lang, float(hit.score), clean_snippet(hit.snippet),
                       card) for hit, card in found if card is not None]


_holders: dict[str, KbIndex] = {}


def holder_for(database_url: str) -> KbIndex:
    return _holders.setdefault(database_url, KbIndex())


@jobs.handler(REINDEX_JOB)
async def reindex_articles(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    """The feed names the articles (the payload's ids are kept for jobs queued before it):
    apply it here now rather than at the next poll, then prune it. Every write queues this
    job, so pruning happens wherever jobs run, and a worker with no index only prunes."""
    await holder_for(ctx.settings.database_url).catch_up(ctx.session_factory)
    async with ctx.session_factory() as db:
        pruned = await prune_index_changes(db=db)
        await db.commit()
    if pruned:
        log.info("kb_index_changes_pruned", rows=pruned)


@jobs.handler(HEAD_REFRESH_JOB)
async def refresh_head(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    """Some time after edits, every process rebuilds (serving its old index meanwhile) so
    that the classifier head learns the new and changed example questions. Help centres
    too big for a head are left to their incremental updates."""
    async with ctx.session_factory() as db:
        published = (await db.execute(select(func.count()).select_from(KbArticle).where(
            KbArticle.status == ArticleStatus.PUBLISHED))).scalar_one()
        if not 2 <= published <= HEAD_MAX_ARTICLES:
            return
        await request_full_reindex(db=db)
        await db.commit()
    await holder_for(ctx.settings.database_url).catch_up(ctx.session_factory)


@jobs.handler(REINDEX_ALL_JOB)
async def reindex_all(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    """Queued by `kefu kb reindex` before the change feed existed; it now writes a
    full-rebuild row instead, which every process applies."""
    holder = holder_for(ctx.settings.database_url)
    if holder.built:
        await holder.rebuild(ctx.session_factory)
