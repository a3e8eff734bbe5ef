"""A help centre as a folder: `categories.json` plus `<category>/<slug>.<lang>.md` files with
front matter, the format of `kefu/kb/demo/`. Export then import gives the same help centre,
and exporting the imported demo reproduces its files byte for byte.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.core.audit import Ref, record
from kefu.core.clock import utcnow
from kefu.core.errors import InvalidInput
from kefu.kb import queries
from kefu.kb.models import KB_LANGUAGES, ArticleStatus, KbArticle
from kefu.kb.schemas import ArticleInput, CategoryInput
from kefu.kb.service import enqueue_reindex, write_article, write_category

DEMO_DIR = Path(__file__).resolve().parent / "demo"
SYSTEM: Ref = ("system", None)
Progress = Callable[[int, int], None]
FIELDS = ("slug", "category", "lang", "title", "context_keys", "questions", "position")


@dataclass
class MarkdownFile:
    meta: dict[str, Any]
    body: str


def parse_markdown_file(text: str, name: str = "file") -> MarkdownFile:
    """Front matter is `key: value` lines; list values are JSON. Titles may hold ': '."""
    if not text.startswith("---\n") or "\n---\n" not in text[3:]:
        raise InvalidInput(f"{name}: missing front matter")
    head, body = text[4:].split("\n---\n", 1)
    meta: dict[str, Any] = {}
    for line in head.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            raise InvalidInput(f"{name}: bad front matter line {line[:40]!r}")
        value = value.strip()
        try:
            meta[key.strip()] = json.loads(value) if value[:1] in "[{" or \
                key.strip() == "position" else value
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{name}: bad value for {key.strip()}") from exc
    return MarkdownFile(meta, body.strip("\n"))


def format_markdown_file(meta: dict[str, Any], body: str) -> str:
    lines = []
    for key, value in meta.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, list | int) \
            else str(value)
        lines.append(f"{key}: {shown}")
    return "---\n" + "\n".join(lines) + "\n---\n\n" + body.strip("\n") + "\n"


def _read_articles(folder: Path) -> dict[str, dict[str, Any]]:
    """Group `<slug>.<lang>.md` files by slug into ArticleInput-shaped dicts."""
    grouped: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*/*.md")):
        parsed = parse_markdown_file(path.read_text(encoding="utf-8"), path.name)
        meta, lang = parsed.meta, str(parsed.meta.get("lang", ""))
        if lang not in KB_LANGUAGES or not meta.get("slug"):
            raise InvalidInput(f"{path.name}: needs a slug and lang en or zh-CN")
        entry = grouped.setdefault(str(meta["slug"]), {
            "slug": meta["slug"], "category": meta.get("category", path.parent.name),
            "position": meta.get("position", 0), "context_keys": meta.get("context_keys", []),
            "versions": {}, "status": meta.get("status", ArticleStatus.PUBLISHED)})
        entry["versions"][lang] = {"title": meta.get("title", ""), "body": parsed.body,
                                   "questions": meta.get("questions", [])}
    return grouped


async def import_folder(*, db: AsyncSession, folder: Path, actor: Ref = SYSTEM,
                        progress: Progress | None = None) -> int:
    """Insert or update every category and article in `folder` (by slug). Articles are
    published unless their front matter says `status: draft`. The folder is the new text:
    a draft of changes an author kept for an imported article is dropped (publishing it
    later would undo the import), and the audit entry names those articles.
    Returns articles imported."""
    try:
        raw = json.loads((folder / "categories.json").read_text(encoding="utf-8"))
        for item in raw:
            await write_category(db, CategoryInput.model_validate(item))
        grouped = _read_articles(folder)
    except (OSError, ValueError, ValidationError) as exc:
        raise InvalidInput(f"Cannot read the help centre in {folder.name}: {exc}") from exc
    existing = {a.slug: a for a in await queries.all_articles(db)}
    ids, drafts_dropped = [], []
    for done, (slug, entry) in enumerate(sorted(grouped.items()), start=1):
        status = entry.pop("status")
        try:
            data = ArticleInput.model_validate(entry)
        except ValidationError as exc:
            raise InvalidInput(f"{slug}: {exc.errors()[0]['msg']}") from exc
        article = await write_article(db, data, existing.get(slug))
        if article.pending is not None:
            drafts_dropped.append(slug)
            article.pending = article.pending_at = None
        article.status = ArticleStatus.DRAFT if status == "draft" else ArticleStatus.PUBLISHED
        article.published_at = article.published_at or (utcnow() if article.is_published
                                                         else None)
        ids.append(article.id)
        if progress:
            progress(done, len(grouped))
    record(db, actor=actor, action="kb.imported", target=("kb", None),
           detail={"articles": len(ids), "categories": len(raw),
                   "drafts_of_changes_dropped": drafts_dropped})
    await enqueue_reindex(db, ids)
    return len(ids)


async def export_folder(*, db: AsyncSession, folder: Path, actor: Ref = SYSTEM,
                        progress: Progress | None = None) -> int:
    """Write every article (drafts marked `status: draft`) and categories.json."""
    folder.mkdir(parents=True, exist_ok=True)
    cats = await queries.categories(db)
    listing = [{"slug": c.slug, "position": c.position, "title_en": c.title_en,
                "title_zh": c.title_zh, "description_en": c.description_en,
                "description_zh": c.description_zh} for c in cats]
    (folder / "categories.json").write_text(
        json.dumps(listing, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    articles = await queries.all_articles(db)
    for done, article in enumerate(articles, start=1):
        _write_article_files(folder, article)
        if progress:
            progress(done, len(articles))
    record(db, actor=actor, action="kb.exported", target=("kb", None),
           detail={"articles": len(articles)})
    return len(articles)


def _write_article_files(folder: Path, article: KbArticle) -> None:
    target = folder / article.category.slug
    target.mkdir(exist_ok=True)
    for version in article.versions:
        meta: dict[str, Any] = {
            "slug": article.slug, "category": article.category.slug, "lang": version.lang,
            "title": version.title, "context_keys": list(article.context_keys),
            "questions": list(version.questions), "position": article.position}
        if not article.is_published:
            meta["status"] = ArticleStatus.DRAFT.value
        (target / f"{article.slug}.{version.lang}.md").write_text(
            format_markdown_file(meta, version.body), encoding="utf-8")


async def load_demo_if_empty(*, db: AsyncSession) -> int:
    """First start: an empty help centre gets the bundled demo content. Returns articles."""
    if (await db.execute(select(func.count(KbArticle.id)))).scalar_one() > 0:
        return 0
    return await import_folder(db=db, folder=DEMO_DIR)
