"""The help-centre search page says plainly when nothing matched (the engine's own
confidence decision), counts its results truly and pages them."""

import re

import httpx
from kb_support import with_demo

from conftest import Desk
from kefu.kb.index import KbIndex
from kefu.kb.search.engine import SearchEngine
from kefu.web.app import create_app

STATUS = re.compile(r'role="status"[^>]*>([^<]*)<')


def _listed(page: str) -> list[str]:
    if 'class="help-list"' not in page:
        return []
    listing = page.split('class="help-list"')[1].split("</ul>")[0]
    return [part.split('"')[0] for part in listing.split('href="/help/articles/')[1:]]


def _results_section(page: str) -> str:
    return page.split("<h2>")[0]  # popular articles and "still need help" follow an <h2>


async def test_a_query_that_matches_nothing_says_so(desk: Desk) -> None:
    client = (await with_demo(desk)).client()
    for lang, nothing, popular in (("en", "No results for", "Popular articles"),
                                   ("zh-CN", "没有找到", "热门文章")):
        page = (await client.get("/help/search", params={"q": "xyzzy", "lang": lang})).text
        assert nothing in STATUS.search(page).group(1)  # type: ignore[union-attr]
        assert _listed(_results_section(page)) == []
        assert f"<h2>{popular}</h2>" in page
        assert len(_listed(page.split(f"<h2>{popular}</h2>")[1])) >= 3
        assert 'href="/portal/tickets/new"' in page.split(f"<h2>{popular}</h2>")[1]


async def test_the_count_is_the_number_of_results_listed(desk: Desk) -> None:
    client = (await with_demo(desk)).client()
    page = (await client.get("/help/search",
                             params={"q": "deposit not credited", "lang": "en"})).text
    listed = _listed(_results_section(page))
    assert "deposit-not-credited" in listed
    count = len(listed)
    word = "result" if count == 1 else "results"
    assert STATUS.search(page).group(1).strip() == f"{count} {word}"  # type: ignore[union-attr]
    assert "Popular articles" not in page  # only offered when nothing matched


async def test_further_results_are_on_further_pages(desk: Desk) -> None:
    """Paging, not ranking, is under test: a lexical index over the demo (whose confidence
    does not depend on what other tests added to this desk) gives a broad word many hits."""
    await with_demo(desk)
    app = create_app(desk.settings, run_migrations=False)
    app.state.kb_index = KbIndex(make_engine=lambda: SearchEngine(use_model=False))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://kefu.test") as client:
            query = {"q": "提现", "lang": "zh-CN"}
            everything = _listed(_results_section(
                (await client.get("/help/search", params={**query, "per_page": 100})).text))
            assert len(everything) >= 3, everything
            first = (await client.get("/help/search", params={**query, "per_page": 2})).text
            assert STATUS.search(first).group(1).strip() == f"{len(everything)} 条结果"  # type: ignore[union-attr]
            assert _listed(_results_section(first)) == everything[:2]
            assert "page=2&amp;per_page=2" in first and "第 1 页" in first
            second = (await client.get("/help/search",
                                       params={**query, "per_page": 2, "page": 2})).text
            assert _listed(_results_section(second)) == everything[2:4]
            far = await client.get("/help/search", params={**query, "per_page": 2, "page": 999})
            assert far.status_code == 200 and _listed(_results_section(far.text))  # the last page
    finally:
        await app.state.engine.dispose()
