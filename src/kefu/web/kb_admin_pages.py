"""Help-centre authoring in the agent console (/console/kb): authors, supervisors, admins."""

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent, Role
from kefu.core.errors import Forbidden, InvalidInput, KefuError
from kefu.kb import feedback, queries
from kefu.kb import service as kb
from kefu.kb.models import KbArticle, KbArticleVersion
from kefu.kb.schemas import ArticleInput, VersionInput
from kefu.tickets import queries as tickets
from kefu.web.deps import CurrentAgent, DbSession, Lang, rollback
from kefu.web.forms import read_form
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
AUTHOR_ROLES = (Role.AUTHOR, Role.SUPERVISOR, Role.ADMIN)
LANG_FIELDS = {"en": "en", "zh-CN": "zh"}  # form field suffix per language
FIELDS = ("slug", "category", "position", "context_keys", "action",
          *(f"{name}_{suffix}" for suffix in LANG_FIELDS.values()
            for name in ("title", "body", "questions")))


async def get_author(agent: CurrentAgent) -> Agent:
    if agent.role not in AUTHOR_ROLES:
        raise Forbidden()
    return agent


KbAuthor = Annotated[Agent, Depends(get_author)]


def _actor(agent: Agent) -> tuple[str, int]:
    return ("agent", agent.id)


def _article_form(article: KbArticle) -> dict[str, str]:
    """The editor's fields: the draft of changes when there is one, else the article."""
    pending = kb.pending_input(article)
    if pending is not None:
        return _form_fields(pending.slug, pending.category, pending.position,
                            pending.context_keys, pending.versions)
    return _form_fields(article.slug, article.category.slug, article.position,
                        article.context_keys, {v.lang: v for v in article.versions})


def _form_fields(slug: str, category: str, position: int, context_keys: list[str],
                 versions: Mapping[str, VersionInput | KbArticleVersion]) -> dict[str, str]:
    form = {"slug": slug, "category": category, "position": str(position),
            "context_keys": ", ".join(context_keys)}
    for lang, suffix in LANG_FIELDS.items():
        version = versions.get(lang)
        form[f"title_{suffix}"] = version.title if version else ""
        form[f"body_{suffix}"] = version.body if version else ""
        form[f"questions_{suffix}"] = "\n".join(version.questions) if version else ""
    return form


def _parse_article(form: dict[str, str]) -> ArticleInput:
    versions: dict[str, Any] = {}
    for lang, suffix in LANG_FIELDS.items():
        title, body = form[f"title_{suffix}"].strip(), form[f"body_{suffix}"].strip()
        if title or body:  # a language left empty simply has no version
            versions[lang] = {"title": title, "body": body,
                              "questions": form[f"questions_{suffix}"].splitlines()}
    try:
        return ArticleInput.model_validate({
            "slug": form["slug"].strip(), "category": form["category"].strip(),
            "position": int(form["position"] or 0), "versions": versions,
            "context_keys": [k for k in form["context_keys"].replace("，", ",").split(",")
                             if k.strip()]})
    except (ValidationError, ValueError) as exc:
        raise InvalidInput(_first_error(exc)) from exc


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    return "Position must be a number."


@router.get("/console/kb")
async def kb_list(request: Request, db: DbSession, lang: Lang, agent: KbAuthor) -> Response:
    return render(request, "kb_admin/list.html", lang, {
        "agent": agent, "articles": await queries.all_articles(db),
        "report": await queries.feedback_report(db, filed=tickets.filed_since),
        "proposals": len(await queries.pending_proposals(db)),
        "saved": request.query_params.get("saved")})


async def _edit_page(request: Request, db: DbSession, lang: str, agent: Agent,
                     article: KbArticle | None, form: dict[str, str], error: str = "",
                     status_code: int = 200) -> Response:
    return render(request, "kb_admin/edit.html", lang, {
        "agent": agent, "article": article, "form": form, "error": error,
        "categories": await queries.categories(db), "lang_fields": LANG_FIELDS,
        "saved": request.query_params.get("saved")}, status_code=status_code)


@router.get("/console/kb/new")
async def kb_new(request: Request, db: DbSession, lang: Lang, agent: KbAuthor) -> Response:
    return await _edit_page(request, db, lang, agent, None, {})


@router.post("/console/kb/new")
async def kb_create(request: Request, db: DbSession, lang: Lang, agent: KbAuthor) -> Response:
    form = await read_form(request, *FIELDS)
    try:
        article = await kb.create_draft(db=db, actor=_actor(agent), data=_parse_article(form))
        if form["action"] == "publish":
            await kb.publish(db=db, actor=_actor(agent), article=article)
        await db.commit()
    except KefuError as exc:
        await rollback(db, agent)
        return await _edit_page(request, db, lang, agent, None, form, exc.message, 422)
    return RedirectResponse(f"/console/kb/articles/{article.id}?saved=1", status_code=303)


@router.get("/console/kb/articles/{article_id}")
async def kb_edit(request: Request, db: DbSession, lang: Lang, agent: KbAuthor,
                  article_id: int) -> Response:
    article = await queries.article_by_id(db, article_id)
    return await _edit_page(request, db, lang, agent, article, _article_form(article))


@router.post("/console/kb/articles/{article_id}")
async def kb_save(request: Request, db: DbSession, lang: Lang, agent: KbAuthor,
                  article_id: int) -> Response:
    article = await queries.article_by_id(db, article_id)
    form = await read_form(request, *FIELDS)
    try:
        await _apply_action(db, agent, article, form)
        await db.commit()
    except KefuError as exc:
        await rollback(db, agent, article)
        return await _edit_page(request, db, lang, agent, article, form, exc.message, 422)
    return RedirectResponse(f"/console/kb/articles/{article.id}?saved=1", status_code=303)


async def _apply_action(db: AsyncSession, agent: Agent, article: KbArticle,
                        form: dict[str, str]) -> None:
    """Save / publish / discard / unpublish. A published article's edits are kept aside as
    a draft of changes until published, so readers never see half-finished text."""
    actor, action = _actor(agent), form["action"]
    if action == "unpublish":
        await kb.unpublish(db=db, actor=actor, article=article)
    elif action == "discard":
        await kb.discard_pending(db=db, actor=actor, article=article)
    elif article.is_published and action == "publish":
        await kb.publish_changes(db=db, actor=actor, article=article, data=_parse_article(form))
    elif article.is_published:
        await kb.save_pending(db=db, actor=actor, article=article, data=_parse_article(form))
    else:
        await kb.update_draft(db=db, actor=actor, article=article, data=_parse_article(form))
        if action == "publish":
            await kb.publish(db=db, actor=actor, article=article)


@router.get("/console/kb/categories")
async def kb_categories(request: Request, db: DbSession, lang: Lang,
                        agent: KbAuthor) -> Response:
    return render(request, "kb_admin/categories.html", lang, {
        "agent": agent, "categories": await queries.categories(db),
        "saved": request.query_params.get("saved")})


@router.post("/console/kb/categories")
async def kb_reorder(request: Request, db: DbSession, lang: Lang, agent: KbAuthor) -> Response:
    cats = await queries.categories(db)
    form = await read_form(request, *(f"pos_{c.slug}" for c in cats))

    def wanted(slug: str) -> int:
        value = form[f"pos_{slug}"].strip()
        return int(value) if value.isdigit() else 10_000

    order = sorted((c.slug for c in cats), key=lambda s: (wanted(s), s))
    await kb.reorder_categories(db=db, actor=_actor(agent), slugs=order)
    await db.commit()
    return RedirectResponse("/console/kb/categories?saved=1", status_code=303)


@router.get("/console/kb/proposals")
async def kb_proposals(request: Request, db: DbSession, lang: Lang, agent: KbAuthor) -> Response:
    return render(request, "kb_admin/proposals.html", lang, {
        "agent": agent, "proposals": await queries.pending_proposals(db)})


@router.post("/console/kb/proposals/{proposal_id}")
async def kb_decide(request: Request, db: DbSession, agent: KbAuthor,
                    proposal_id: int) -> Response:
    proposal = await queries.proposal_by_id(db, proposal_id)
    form = await read_form(request, "action")
    await feedback.decide_proposal(db=db, actor=_actor(agent), agent_id=agent.id,
                                   proposal=proposal, accept=form["action"] == "accept")
    await db.commit()
    return RedirectResponse("/console/kb/proposals", status_code=303)
