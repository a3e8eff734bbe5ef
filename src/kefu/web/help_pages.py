"""The public help centre (/help), its JSON endpoints and the embeddable context list."""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from kefu.kb import feedback, queries
from kefu.kb.index import ArticleCard, KbIndex, holder_for
from kefu.kb.markdown import plain_excerpt, render_markdown
from kefu.kb.models import KbArticle
from kefu.kb.schemas import CONTEXT_KEY
from kefu.web.deps import DbSession, Lang, MaybeCustomer, Settings, cookie_name
from kefu.web.forms import read_form
from kefu.web.templating import render


@contextlib.asynccontextmanager
async def _warm_index(app: FastAPI) -> AsyncIterator[None]:
    # Runs after the app's own lifespan has migrated (and seeded) the database. Building
    # embeds every article (seconds), so it runs beside the server instead of delaying it;
    # a search arriving meanwhile waits for it.
    holder = _index(app)
    task = asyncio.create_task(holder.ensure_built(app.state.session_factory))
    yield
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


router = APIRouter(include_in_schema=False, lifespan=_warm_index)
FROM_TICKET_FORM = "ticket-form"
VOTER_COOKIE = "kefu_hv"
SUGGEST_LIMIT = 5
SEARCH_PAGE = 10
SEARCH_MAX = 100  # the engine's own cap on hits per query


@dataclass(frozen=True)
class Card:
    """An article as a list item: title in the reader's language or, visibly, the other."""

    slug: str
    title: str
    lang: str
    fallback: bool
    excerpt: str
    category: str
    snippet: str = ""

    @property
    def url(self) -> str:
        return f"/help/articles/{self.slug}"


def card(article: KbArticle, lang: str, snippet: str = "") -> Card:
    version = article.best_version(lang)
    return Card(article.slug, version.title, version.lang, version.lang != lang,
                plain_excerpt(version.body), article.category.title(lang), snippet)


def _index(app: FastAPI) -> KbIndex:
    # The process's index for this database, unless the app was given its own (tests run
    # two "processes" as two apps on one database).
    given = getattr(app.state, "kb_index", None)
    return given if isinstance(given, KbIndex) else holder_for(app.state.settings.database_url)


async def search_cards(request: Request, query: str, lang: str, limit: int) -> list[Card]:
    """From the index alone: each hit carries the card prepared when its article was
    indexed, so a search reads no row and renders no Markdown. An article unpublished in
    another process leaves the results within the index's poll interval (seconds)."""
    hits = await _index(request.app).search(request.app.state.session_factory, query, limit=limit)
    return [_hit_card(h.card, lang, h.snippet) for h in hits]


def _hit_card(prepared: ArticleCard, lang: str, snippet: str) -> Card:
    title, version_lang, excerpt, category = prepared.shown_in(lang)
    return Card(prepared.slug, title, version_lang, version_lang != lang, excerpt, category,
                snippet)


@router.get("/help")
async def help_home(request: Request, db: DbSession, lang: Lang) -> Response:
    cats = await queries.categories(db)
    counts = await queries.published_counts(db)
    hot = [card(a, lang) for a in await queries.hot_articles(db)]
    return render(request, "help/index.html", lang, {
        "categories": [c for c in cats if counts.get(c.id)], "counts": counts, "hot": hot,
        "q": ""})


@router.get("/help/categories/{slug}")
async def help_category(request: Request, db: DbSession, lang: Lang, slug: str) -> Response:
    category, articles = await queries.category_with_articles(db, slug)
    return render(request, "help/category.html", lang, {
        "category": category, "articles": [card(a, lang) for a in articles], "q": ""})


@router.get("/help/articles/{slug}")
async def help_article(request: Request, db: DbSession, lang: Lang, customer: MaybeCustomer,
                       slug: str) -> Response:
    article = await queries.published_article(db, slug)
    version = article.best_version(lang)
    related = [card(a, lang) for a in await queries.related(db, article)]
    feedback.record_view(db, article=article, lang=version.lang)
    if request.query_params.get("from") == FROM_TICKET_FORM and customer is not None:
        await feedback.record_deflection(db, article=article, customer_id=customer.id)
    await db.commit()
    return render(request, "help/article.html", lang, {
        "article": article, "category": article.category, "version": version,
        "fallback": version.lang != lang, "body_html": render_markdown(version.body),
        "related": related, "voted": request.query_params.get("voted"), "q": ""})


@router.post("/help/articles/{slug}/vote")
async def help_vote(request: Request, db: DbSession, settings: Settings, slug: str) -> Response:
    article = await queries.published_article(db, slug)
    form = await read_form(request, "helpful")
    name = cookie_name(settings, VOTER_COOKIE)
    voter = request.cookies.get(name) or secrets.token_urlsafe(18)
    await feedback.vote(db, article=article, voter=voter[:64], helpful=form["helpful"] == "yes")
    await db.commit()
    response = RedirectResponse(f"/help/articles/{article.slug}?voted=1#feedback",
                                status_code=303)
    response.set_cookie(name, voter, max_age=365 * 86400, httponly=True, samesite="lax",
                        secure=settings.cookie_secure, path="/")
    return response


@router.get("/help/search")
async def help_search(request: Request, db: DbSession, lang: Lang, q: str = "",
                      page: int = 1, per_page: int = SEARCH_PAGE) -> Response:
    """Results the search is confident of, `per_page` a page; none below its decision,
    then the popular articles (labelled as such) instead."""
    found = await _index(request.app).find(request.app.state.session_factory, q,
                                           limit=SEARCH_MAX)
    per_page = min(max(1, per_page), SEARCH_MAX)
    pages = max(1, -(-len(found.hits) // per_page))
    page = min(max(1, page), pages)
    shown = found.hits[(page - 1) * per_page:page * per_page]
    results = [_hit_card(h.card, lang, h.snippet) for h in shown]
    popular = [card(a, lang) for a in await queries.hot_articles(db)] if not results else []
    return render(request, "help/search.html", lang, {
        "q": q[:200], "results": results, "total": len(found.hits), "page": page,
        "pages": pages, "popular": popular,
        "per_page": "" if per_page == SEARCH_PAGE else f"&per_page={per_page}"})


def _json_card(item: Card, *, source: str = "") -> dict[str, Any]:
    suffix = f"?from={source}" if source == FROM_TICKET_FORM else ""
    return {"slug": item.slug, "title": item.title, "lang": item.lang, "url": item.url + suffix,
            "category": item.category, "excerpt": item.excerpt, "snippet": item.snippet,
            "fallback": item.fallback}


@router.get("/api/v1/help/suggest", include_in_schema=True, tags=["help"])
async def suggest(request: Request, lang: Lang, q: str = "",
                  source: str = "") -> dict[str, Any]:
    """Articles for search-as-you-type and the ticket form (snippets are HTML with <mark>)."""
    results = await search_cards(request, q, lang, limit=SUGGEST_LIMIT)
    return {"lang": lang, "results": [_json_card(r, source=source) for r in results]}


async def _context_cards(db: DbSession, key: str, lang: str) -> list[Card]:
    if not CONTEXT_KEY.match(key):
        return []  # an unknown or malformed key simply has no articles
    return [card(a, lang) for a in await queries.by_context(db, key)]


@router.get("/api/v1/help/context/{key}", include_in_schema=True, tags=["help"])
async def context_articles(db: DbSession, lang: Lang, key: str) -> dict[str, Any]:
    """Articles tagged with a context key (withdrawal, kyc, api-keys, ...) for product pages."""
    return {"key": key[:40], "lang": lang,
            "articles": [_json_card(c) for c in await _context_cards(db, key, lang)]}


def embed_csp(settings: Any) -> str:
    # Deploy-time list of sites allowed to frame the widget, e.g. "https://www.exchange.com".
    ancestors = settings.help_embed_frame_ancestors or "'none'"
    return ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
            f"form-action 'none'; frame-ancestors {ancestors}")


@router.get("/help/embed/{key}")
async def embed(request: Request, db: DbSession, settings: Settings, lang: Lang,
                key: str) -> Response:
    cards = await _context_cards(db, key, lang)
    response = render(request, "help/embed.html", lang, {
        "cards": cards, "base_url": settings.base_url.rstrip("/")})
    response.headers["Content-Security-Policy"] = embed_csp(settings)
    # Browsers that know frame-ancestors ignore X-Frame-Options; the middleware's DENY
    # would otherwise win in the ones that also send it.
    response.headers["X-Frame-Options"] = "DENY" if "'none'" in embed_csp(settings) \
        else "SAMEORIGIN"
    return response

