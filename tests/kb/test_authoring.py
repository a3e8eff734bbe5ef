"""Authors write, publish and unpublish articles; the reindex job makes them searchable."""

import re
import secrets

from kb_support import with_demo
from sqlalchemy import select

from conftest import Desk, agent_client
from kefu.accounts.models import Role
from kefu.core.audit import AuditEntry
from kefu.kb.feedback import propose_example_question


def _form(slug: str, **overrides: str) -> dict[str, str]:
    word = slug.replace("-", "")
    values = {"slug": slug, "category": "security", "position": "50",
              "context_keys": "security, zebra", "title_en": f"Zebra vault {word}",
              "body_en": f"The {word} zebra vault keeps coins safe.\n\n- step one",
              "questions_en": f"what is the {word} zebra vault\nzebra vault help",
              "title_zh": "", "body_zh": "", "questions_zh": "", "action": "save"}
    values.update(overrides)
    return values


async def _audited(desk: Desk, slug: str) -> set[str]:
    """The audit log's actions on the article `slug`."""
    async with desk.app.state.session_factory() as db:
        return set((await db.execute(select(AuditEntry.action).where(
            AuditEntry.target_id == slug))).scalars().all())


async def test_plain_agents_cannot_author(desk: Desk) -> None:
    agent = await agent_client(desk)
    assert (await agent.get("/console/kb")).status_code == 403
    assert (await agent.post("/console/kb/new", data=_form("nope"))).status_code == 403


async def test_draft_is_invisible_until_published_and_indexed(desk: Desk) -> None:
    await with_demo(desk)
    author = await agent_client(desk, role=Role.AUTHOR)
    slug = f"zebra-{secrets.token_hex(3)}"
    created = await author.post("/console/kb/new", data=_form(slug))
    assert created.status_code == 303, created.text
    edit_url = created.headers["location"].split("?")[0]
    public = desk.client()
    assert (await public.get(f"/help/articles/{slug}")).status_code == 404
    await desk.run_jobs()
    search = (await public.get("/api/v1/help/suggest", params={"q": "zebra vault"})).json()
    assert slug not in [r["slug"] for r in search["results"]]

    published = await author.post(edit_url, data=_form(slug, action="publish"))
    assert published.status_code == 303
    assert (await public.get(f"/help/articles/{slug}?lang=zh-CN")).status_code == 200
    await desk.run_jobs()
    search = (await public.get("/api/v1/help/suggest", params={"q": "zebra vault"})).json()
    assert search["results"][0]["slug"] == slug

    fallback = await public.get(f"/help/articles/{slug}?lang=zh-CN")
    assert "本文暂无中文版本" in fallback.text  # English shown, visibly

    await author.post(edit_url, data={"action": "unpublish"})
    await desk.run_jobs()
    assert (await public.get(f"/help/articles/{slug}")).status_code == 404
    search = (await public.get("/api/v1/help/suggest", params={"q": "zebra vault"})).json()
    assert slug not in [r["slug"] for r in search["results"]]
    assert {"kb.article_created", "kb.article_published",
            "kb.article_unpublished"} <= await _audited(desk, slug)


async def test_invalid_article_is_refused_with_the_form_kept(desk: Desk) -> None:
    await with_demo(desk)
    author = await agent_client(desk, role=Role.SUPERVISOR)
    bad = await author.post("/console/kb/new", data=_form("Bad Slug!"))
    assert bad.status_code == 422 and "Zebra vault" in bad.text
    empty = await author.post("/console/kb/new", data=_form(
        f"empty-{secrets.token_hex(3)}", title_en="", body_en=""))
    assert empty.status_code == 422
    taken = await author.post("/console/kb/new", data=_form("deposit-not-credited"))
    assert taken.status_code == 422 and "already uses" in taken.text


async def test_markdown_is_rendered_safe(desk: Desk) -> None:
    await with_demo(desk)
    author = await agent_client(desk, role=Role.ADMIN)
    slug = f"unsafe-{secrets.token_hex(3)}"
    body = ("Hello <script>alert('x')</script> <iframe src='https://evil.example'></iframe>\n\n"
            "[click](javascript:alert(1)) [ok](https://kefu.example/x) "
            "<img src=x onerror=alert(1)> <a href='#' onclick='steal()'>a</a>\n\n"
            "![pic](javascript:alert(2))")
    created = await author.post("/console/kb/new", data=_form(slug, body_en=body,
                                                               action="publish"))
    assert created.status_code == 303
    page = (await desk.client().get(f"/help/articles/{slug}")).text
    article = page.split('class="help-body"')[1].split("</div>")[0]
    tags = re.findall(r"<[a-z][^>]*>", article)  # live tags only: escaped text is inert
    assert {t.split()[0].strip("<>") for t in tags} <= {"p", "a"}
    for tag in tags:
        assert "javascript:" not in tag and not re.search(r"\son\w+=", tag), tag
    assert 'href="https://kefu.example/x"' in article


async def test_categories_reorder(desk: Desk) -> None:
    await with_demo(desk)
    author = await agent_client(desk, role=Role.AUTHOR)
    saved = await author.post("/console/kb/categories",
                              data={"pos_api": "0", "pos_getting-started": "5"})
    assert saved.status_code == 303
    home = (await desk.client().get("/help?lang=en")).text
    assert home.index("/help/categories/api") < home.index("/help/categories/account")
    await author.post("/console/kb/categories", data={"pos_getting-started": "0"})


async def test_proposed_questions_review(desk: Desk) -> None:
    await with_demo(desk)
    question = f"my btc deposit {secrets.token_hex(3)} is missing"
    async with desk.app.state.session_factory() as db:
        proposal = await propose_example_question(
            db=db, article_slug="deposit-not-credited", lang="en", question=question)
        again = await propose_example_question(
            db=db, article_slug="deposit-not-credited", lang="en", question=question.upper())
        await db.commit()
    assert proposal is not None and again is None
    author = await agent_client(desk, role=Role.AUTHOR)
    listing = await author.get("/console/kb/proposals")
    assert question in listing.text
    decided = await author.post(f"/console/kb/proposals/{proposal.id}", data={"action": "accept"})
    assert decided.status_code == 303
    assert question not in (await author.get("/console/kb/proposals")).text
    edit = await author.get(f"/console/kb/articles/{proposal.article_id}")
    assert question in edit.text
    await desk.run_jobs()


async def test_edits_to_a_published_article_wait_as_a_draft_of_changes(desk: Desk) -> None:
    await with_demo(desk)
    author = await agent_client(desk, role=Role.AUTHOR)
    slug = f"zebra-{secrets.token_hex(3)}"
    created = await author.post("/console/kb/new", data=_form(slug, action="publish"))
    edit_url = created.headers["location"].split("?")[0]
    public = desk.client()
    await desk.run_jobs()

    changed = _form(slug, title_en="Quagga vault", body_en="The quagga vault is new.")
    saved = await author.post(edit_url, data=changed)
    assert saved.status_code == 303
    await desk.run_jobs()
    live = await public.get(f"/help/articles/{slug}")
    assert "Zebra vault" in live.text and "quagga" not in live.text.lower()
    editor = await author.get(edit_url)
    assert "Quagga vault" in editor.text and 'id="pending-changes"' in editor.text
    assert "Changes drafted" in (await author.get("/console/kb")).text
    refused = await author.post(edit_url, data={"action": "unpublish"})
    assert refused.status_code == 422  # it would have to pick a text: the author does

    await author.post(edit_url, data={"action": "discard"})
    editor = await author.get(edit_url)
    assert "Quagga vault" not in editor.text and 'id="pending-changes"' not in editor.text

    await author.post(edit_url, data=changed)
    published = await author.post(edit_url, data={**changed, "action": "publish"})
    assert published.status_code == 303
    await desk.run_jobs()
    assert "Quagga vault" in (await public.get(f"/help/articles/{slug}")).text
    search = (await public.get("/api/v1/help/suggest", params={"q": "quagga vault"})).json()
    assert search["results"] and search["results"][0]["slug"] == slug
    assert {"kb.article_draft_saved", "kb.article_draft_discarded",
            "kb.article_changes_published"} <= await _audited(desk, slug)


async def test_an_accepted_question_joins_the_draft_of_changes(desk: Desk) -> None:
    """Otherwise publishing the draft would drop the question the author just accepted."""
    from kefu.kb.models import KbArticle

    await with_demo(desk)
    author = await agent_client(desk, role=Role.AUTHOR)
    slug = f"zebra-{secrets.token_hex(3)}"
    created = await author.post("/console/kb/new", data=_form(slug, action="publish"))
    edit_url = created.headers["location"].split("?")[0]
    await author.post(edit_url, data=_form(slug, title_en="Quagga vault"))
    question = "where do zebras keep their coins"
    async with desk.app.state.session_factory() as db:
        proposal = await propose_example_question(db=db, article_slug=slug, lang="en",
                                                  question=question)
        await db.commit()
    assert proposal is not None
    await author.post(f"/console/kb/proposals/{proposal.id}", data={"action": "accept"})
    editor = (await author.get(edit_url)).text
    assert question in editor and "Quagga vault" in editor
    async with desk.app.state.session_factory() as db:
        article = await db.get(KbArticle, int(edit_url.rsplit("/", 1)[1]))
        assert article is not None and article.pending is not None
        live = article.version("en")
        assert live is not None and question in live.questions
        assert question in article.pending["versions"]["en"]["questions"]


async def test_the_classifier_head_learns_a_new_article_some_time_after_it(desk: Desk) -> None:
    """Publishing updates the index at once (retrieval finds the article); a full rebuild
    queued for a little later retrains the head on its example questions."""
    from sqlalchemy import update

    from kefu.core.clock import utcnow
    from kefu.core.jobs import Job
    from kefu.kb.index import holder_for
    from kefu.kb.service import HEAD_REFRESH_JOB

    await with_demo(desk)
    author = await agent_client(desk, role=Role.AUTHOR)
    slug = f"zebra-{secrets.token_hex(3)}"
    created = await author.post("/console/kb/new", data=_form(slug, action="publish"))
    article_id = created.headers["location"].split("?")[0].rsplit("/", 1)[1]
    await desk.run_jobs()
    index = holder_for(desk.settings.database_url)
    assert index.engine is not None and index.engine.head is not None
    assert article_id not in index.engine.head.classes  # incremental: retrieval only, for now
    async with desk.app.state.session_factory() as db:
        waiting = (await db.execute(select(Job.run_after).where(
            Job.kind == HEAD_REFRESH_JOB, Job.status == "queued"))).scalars().all()
        assert len(waiting) == 1 and waiting[0] > utcnow()  # one, later, for the burst
        await db.execute(update(Job).where(Job.kind == HEAD_REFRESH_JOB,
                                           Job.status == "queued").values(run_after=utcnow()))
        await db.commit()
    await desk.run_jobs()
    assert index.engine is not None and index.engine.head is not None
    assert article_id in index.engine.head.classes
