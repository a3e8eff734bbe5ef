"""Several processes serve one database, each with its own search index: what an author
publishes through one is found by the others' searches through the change feed, without a
restart or a job running there. Two apps on one database stand in for two processes."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import FastAPI

from conftest import Desk, agent_client
from kefu.accounts.models import Role
from kefu.kb.index import POLL_SECONDS, KbIndex, holder_for
from kefu.kb.schemas import CategoryInput
from kefu.kb.search.engine import SearchEngine
from kefu.kb.service import prune_index_changes, write_category
from kefu.web.app import create_app

CATEGORY = "index-sync"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self) -> None:
        self.now += POLL_SECONDS


@dataclass
class Process:
    app: FastAPI
    index: KbIndex
    clock: FakeClock

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url="http://kefu.test")

    async def finds(self, word: str) -> bool:
        async with self.client() as client:
            page = await client.get("/help/search", params={"q": f"{word} vault", "lang": "en"})
        assert page.status_code == 200
        return f"Vault {word}" in page.text


@asynccontextmanager
async def second_process(desk: Desk) -> AsyncIterator[Process]:
    app = create_app(desk.settings, run_migrations=False)
    clock = FakeClock()
    # A lexical engine builds in about a second: the feed, not the ranking, is under test.
    app.state.kb_index = KbIndex(clock=clock,
                                 make_engine=lambda: SearchEngine(use_model=False))
    try:
        yield Process(app, app.state.kb_index, clock)
    finally:
        await app.state.engine.dispose()


async def _category(desk: Desk) -> None:
    async with desk.app.state.session_factory() as db:
        await write_category(db, CategoryInput(slug=CATEGORY, position=90,
                                               title_en="Index sync", title_zh="索引同步"))
        await db.commit()


def _form(word: str, action: str) -> dict[str, str]:
    return {"slug": f"vault-{word}", "category": CATEGORY, "position": "1",
            "context_keys": "", "title_en": f"Vault {word}",
            "body_en": f"The {word} vault keeps coins safe.", "questions_en": f"{word} vault",
            "title_zh": "", "body_zh": "", "questions_zh": "", "action": action}


async def _publish(author: httpx.AsyncClient, word: str) -> str:
    created = await author.post("/console/kb/new", data=_form(word, "publish"))
    assert created.status_code == 303, created.text
    return str(created.headers["location"].split("?")[0])


async def _eventually_finds(process: Process, word: str) -> bool:
    """For the background rebuild: a lexical build of the demo takes about a second."""
    for _ in range(100):
        if await process.finds(word):
            return True
        await asyncio.sleep(0.1)
    return False


async def test_publish_and_unpublish_reach_another_process(desk: Desk) -> None:
    await _category(desk)
    author = await agent_client(desk, role=Role.AUTHOR)
    word = f"quokka{secrets.token_hex(3)}"
    async with second_process(desk) as other:
        assert not await other.finds(word)  # builds the other process's index
        edit_url = await _publish(author, word)
        # Looked at the feed moments ago: the next look waits for the poll interval.
        assert not await other.finds(word)
        other.clock.advance()
        assert await other.finds(word)

        unpublished = await author.post(edit_url, data={"action": "unpublish"})
        assert unpublished.status_code == 303
        other.clock.advance()
        assert not await other.finds(word)


async def test_a_process_that_missed_pruned_changes_rebuilds(desk: Desk) -> None:
    await _category(desk)
    author = await agent_client(desk, role=Role.AUTHOR)
    word, later = f"wombat{secrets.token_hex(3)}", f"numbat{secrets.token_hex(3)}"
    async with second_process(desk) as other:
        assert not await other.finds(word)
        built = other.index.engine
        await _publish(author, word)
        # A later change to another article, so applying only what is left after pruning
        # would not index `word`.
        created = await author.post("/console/kb/new", data=_form(later, "save"))
        assert created.status_code == 303
        # The desk's own index applies everything first, so pruning costs it nothing.
        await holder_for(desk.settings.database_url).catch_up(desk.app.state.session_factory)
        async with desk.app.state.session_factory() as db:
            assert await prune_index_changes(db=db, keep=1, keep_for=timedelta(0)) >= 1
            await db.commit()

        other.clock.advance()
        assert await _eventually_finds(other, word)
        assert other.index.engine is not built  # rebuilt, not patched


async def test_feed_writers_wait_for_each_other_until_commit(desk: Desk) -> None:
    """Readers remember the highest feed id applied, so a change row must never become
    visible after a higher one was read. On PostgreSQL a second writer waits on the
    advisory lock until the first commits (SQLite has one writer at a time anyway)."""
    import pytest
    from sqlalchemy import func, select

    from kefu.kb.models import KbIndexChange
    from kefu.kb.service import request_full_reindex

    if desk.backend != "postgresql":
        pytest.skip("SQLite serialises writers by itself")
    factory = desk.app.state.session_factory
    async with factory() as first:
        await request_full_reindex(db=first)
        await first.flush()
        first_id = (await first.execute(select(func.max(KbIndexChange.id)))).scalar_one()

        async def second_writer() -> int:
            async with factory() as second:
                await request_full_reindex(db=second)
                await second.flush()
                written = (await second.execute(select(func.max(KbIndexChange.id)))
                           ).scalar_one()
                await second.commit()
                return int(written)

        waiting = asyncio.create_task(second_writer())
        await asyncio.sleep(0.5)
        assert not waiting.done()  # queued behind the first writer's uncommitted row
        await first.commit()
    second_id = await asyncio.wait_for(waiting, timeout=10)
    assert second_id > first_id


async def test_a_renamed_category_reaches_the_results_of_another_process(desk: Desk) -> None:
    """Results come from cards prepared at indexing time: a category's new title is
    re-indexed for its articles, not left stale."""
    await _category(desk)
    author = await agent_client(desk, role=Role.AUTHOR)
    word = f"wombat{secrets.token_hex(3)}"
    await _publish(author, word)
    renamed = f"Sync {secrets.token_hex(2)}"
    async with second_process(desk) as other:
        async with other.client() as client:
            before = (await client.get("/api/v1/help/suggest",
                                       params={"q": f"{word} vault", "lang": "en"})).json()
            assert before["results"][0]["category"] == "Index sync"
            assert before["results"][0]["excerpt"] == f"The {word} vault keeps coins safe."
            async with desk.app.state.session_factory() as db:
                await write_category(db, CategoryInput(slug=CATEGORY, position=90,
                                                       title_en=renamed, title_zh="索引同步"))
                await db.commit()
            other.clock.advance()
            after = (await client.get("/api/v1/help/suggest",
                                      params={"q": f"{word} vault", "lang": "en"})).json()
            assert after["results"][0]["category"] == renamed
        async with desk.app.state.session_factory() as db:  # as the other tests expect it
            await write_category(db, CategoryInput(slug=CATEGORY, position=90,
                                                   title_en="Index sync", title_zh="索引同步"))
            await db.commit()
