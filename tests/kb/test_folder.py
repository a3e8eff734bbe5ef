"""Import and export a help centre as a folder of Markdown files; deflection counting."""

import json
from datetime import timedelta
from pathlib import Path

from kb_support import with_demo
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import Desk, agent_client, customer_client, submit_ticket
from kefu.accounts.models import Role
from kefu.core.clock import utcnow
from kefu.kb import queries
from kefu.kb.folder import DEMO_DIR, export_folder, import_folder
from kefu.tickets.queries import filed_since


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


async def test_export_of_the_demo_reproduces_it_and_reimports(desk: Desk, tmp_path: Path
                                                               ) -> None:
    await with_demo(desk)
    async with desk.app.state.session_factory() as db:
        # Other tests reorder categories and add questions: importing the demo again puts
        # its articles back (import updates by slug). Their own articles are exported too,
        # so only the demo's files are compared.
        await import_folder(db=db, folder=DEMO_DIR)
        await export_folder(db=db, folder=tmp_path / "out")
        await db.commit()
    exported, demo = _files(tmp_path / "out"), _files(DEMO_DIR)
    # Other tests may add categories of their own: compare the demo's, in the demo's order.
    demo_categories = json.loads(demo.pop("categories.json"))
    slugs = {c["slug"] for c in demo_categories}
    exported_categories = [c for c in json.loads(exported["categories.json"])
                           if c["slug"] in slugs]
    assert exported_categories == demo_categories
    assert {k: exported.get(k) for k in demo} == demo
    async with desk.app.state.session_factory() as db:
        count = await import_folder(db=db, folder=tmp_path / "out")
        await db.commit()
    assert count >= 68
    page = await desk.client().get("/help/articles/deposit-not-credited?lang=zh-CN")
    assert page.status_code == 200 and "充值未到账" in page.text


async def test_deflection_counts_only_suggestions_without_a_ticket(desk: Desk) -> None:
    await with_demo(desk)
    stays = await customer_client(desk)
    files_anyway = await customer_client(desk)
    url = "/help/articles/withdrawal-fees?from=ticket-form"
    assert (await stays.get(url)).status_code == 200
    await stays.get(url)  # a reload is the same event
    await files_anyway.get(url)
    await desk.client().get(url)  # anonymous: cannot file a ticket, so not counted
    assert (await submit_ticket(files_anyway)).status_code == 303
    async with desk.app.state.session_factory() as db:
        article = await queries.published_article(db, "withdrawal-fees")
        now = await queries.feedback_report(db, filed=filed_since)
        later = await queries.feedback_report(db, filed=filed_since,
                                              now=utcnow() + timedelta(hours=1))
    assert now.per_article[article.id].pending == 1
    assert now.per_article[article.id].followed_by_ticket == 1
    assert later.per_article[article.id].deflected == 1
    assert later.per_article[article.id].followed_by_ticket == 1
    author = await agent_client(desk, role=Role.AUTHOR)
    assert "deflected tickets" in (await author.get("/console/kb?lang=en")).text


async def test_import_drops_a_draft_of_changes_it_would_otherwise_be_undone_by(
        desk: Desk) -> None:
    from sqlalchemy import select

    from kefu.core.audit import AuditEntry
    from kefu.kb import service as kb
    from kefu.kb.models import KbArticle
    from kefu.kb.schemas import ArticleInput

    async def demo_article(db: AsyncSession) -> KbArticle:
        return (await db.execute(select(KbArticle).where(
            KbArticle.slug == "deposit-not-credited"))).scalar_one()

    await with_demo(desk)
    async with desk.app.state.session_factory() as db:
        article = await demo_article(db)
        draft = ArticleInput.model_validate({
            "slug": article.slug, "category": article.category.slug,
            "position": article.position, "context_keys": article.context_keys,
            "versions": {v.lang: {"title": v.title + " (edited)", "body": v.body,
                                  "questions": v.questions} for v in article.versions}})
        await kb.save_pending(db=db, actor=("system", None), article=article, data=draft)
        await db.commit()
    async with desk.app.state.session_factory() as db:
        await import_folder(db=db, folder=DEMO_DIR)
        await db.commit()
    async with desk.app.state.session_factory() as db:
        article = await demo_article(db)
        assert article.pending is None and article.is_published
        details = (await db.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "kb.imported").order_by(AuditEntry.id.desc()))).scalars()
        assert next(iter(details))["drafts_of_changes_dropped"] == ["deposit-not-credited"]
