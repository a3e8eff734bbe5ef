"""The help-centre search index: one holder per process and database.

It is built from the published article versions on first use (the help router warms it
at startup), kept current by the `kb.reindex_article` job, and rebuilt in full by
`kb.reindex_all` / `kefu kb reindex`. The engine's document id is the article id (each language is a
version of that document), so a hit maps straight back to the article row.

Holders are keyed by database URL because tests run two desks in one process.
"""

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kefu.core import jobs
from kefu.kb.markdown import clean_snippet, plain_text
from kefu.kb.models import ArticleStatus, KbArticle
from kefu.kb.search.engine import Hit, SearchEngine
from kefu.kb.service import REINDEX_ALL_JOB, REINDEX_JOB

log = structlog.get_logger(__name__)
MAX_QUERY = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
Factory = async_sessionmaker[AsyncSession]


def new_engine() -> SearchEngine:
    # The embedding model is loaded once per process by the engine module, so several
    # holders (tests run two desks) share it.
    return SearchEngine()


@dataclass(frozen=True)
class ArticleHit:
    article_id: int
    lang: str
    score: float
    snippet: str  # HTML: escaped text with <mark>, re-sanitised here


def clean_query(query: str) -> str:
    """Bounded, single-line query text: a 10,000-character paste costs no more than 200."""
    return " ".join(_CONTROL.sub(" ", query[: MAX_QUERY * 4]).split())[:MAX_QUERY]


def _add(engine: SearchEngine, article: KbArticle) -> None:
    for version in article.versions:
        engine.add_document(str(article.id), lang=version.lang, title=version.title,
                            body=plain_text(version.body), questions=list(version.questions))


def _build(engine: SearchEngine, articles: Sequence[KbArticle]) -> None:
    for article in articles:
        _add(engine, article)
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


class KbIndex:
    def __init__(self) -> None:
        self.engine: SearchEngine | None = None
        self.documents = 0
        self._lock = asyncio.Lock()

    @property
    def built(self) -> bool:
        return self.engine is not None

    async def ensure_built(self, factory: Factory) -> SearchEngine:
        if self.engine is None:
            async with self._lock:
                if self.engine is None:
                    await self.rebuild(factory, locked=True)
        assert self.engine is not None
        return self.engine

    async def rebuild(self, factory: Factory, *, locked: bool = False) -> int:
        """Build a fresh engine off to the side, then swap it in: searches never see a
        half-built index."""
        async with factory() as db:
            articles = (await db.execute(select(KbArticle).where(
                KbArticle.status == ArticleStatus.PUBLISHED))).scalars().all()
        engine = new_engine()
        # Embedding a few hundred documents can take seconds: keep the event loop free.
        await asyncio.to_thread(_build, engine, articles)
        self.engine = engine
        self.documents = sum(len(a.versions) for a in articles)
        log.info("kb_index_built", articles=len(articles), documents=self.documents)
        return self.documents

    async def update_articles(self, factory: Factory, article_ids: Sequence[int]) -> None:
        if self.engine is None:
            return  # not built in this process; the first search builds it from the DB
        async with factory() as db:
            rows = (await db.execute(select(KbArticle).where(KbArticle.id.in_(article_ids)))
                    ).scalars().all()
        found = {a.id: a for a in rows}
        for article_id in article_ids:
            self.engine.remove_document(str(article_id))
            article = found.get(article_id)
            if article is not None and article.is_published:
                _add(self.engine, article)

    async def search(self, factory: Factory, query: str, *, limit: int = 10
                     ) -> list[ArticleHit]:
        """One hit per article; the snippet comes from the version in the query's language
        (so the highlighted words are the ones typed); callers title it in the reader's."""
        text = clean_query(query)
        if not text:
            return []
        engine = await self.ensure_built(factory)
        try:
            hits = await asyncio.to_thread(engine.search, text, limit=limit)
        except Exception as exc:  # a query must never break the page; the log keeps it
            log.warning("kb_search_failed", error=str(exc))
            return []
        return [_article_hit(h) for h in hits if h.doc_id.isdigit()]


def _article_hit(hit: Hit) -> ArticleHit:
    return ArticleHit(int(hit.doc_id), hit.lang, float(hit.score), clean_snippet(hit.snippet))


_holders: dict[str, KbIndex] = {}


def holder_for(database_url: str) -> KbIndex:
    return _holders.setdefault(database_url, KbIndex())


@jobs.handler(REINDEX_JOB)
async def reindex_articles(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    ids = [int(i) for i in payload.get("article_ids", [])]
    await holder_for(ctx.settings.database_url).update_articles(ctx.session_factory, ids)


@jobs.handler(REINDEX_ALL_JOB)
async def reindex_all(payload: dict[str, Any], ctx: jobs.JobContext) -> None:
    await holder_for(ctx.settings.database_url).rebuild(ctx.session_factory)
