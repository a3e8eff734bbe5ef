"""Every help page, in both languages, links only to pages that exist: a link or a site
path written in an article (`/portal/reset`) that answers 404 fails the walk."""

import re

import httpx
from kb_support import with_demo

from conftest import Desk

HREF = re.compile(r'href="(/[^"#]*)')
# A site path written as code in an article body: `<code>/portal/reset</code>`.
CODE_PATH = re.compile(r"<code>(/[^<\s]*)</code>")
BODY = re.compile(r'<div class="help-body">(.*?)</div>', re.S)


def _links(page: str) -> set[str]:
    found = {h.replace("&amp;", "&") for h in HREF.findall(page)}
    for body in BODY.findall(page):
        found |= set(CODE_PATH.findall(body))
    return found


async def _walk(client: httpx.AsyncClient, lang: str) -> tuple[int, dict[str, str]]:
    """Every /help page reachable from /help; returns the number of articles seen and
    the links that answer 404, each with the page that holds it."""
    pending, seen, checked = ["/help"], set[str](), dict[str, int]()
    dead: dict[str, str] = {}
    articles = 0
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        page = await client.get(path, params={"lang": lang})
        assert page.status_code == 200, (path, page.status_code)
        articles += path.startswith("/help/articles/")
        for link in _links(page.text):
            bare = link.split("?")[0]
            if bare.startswith(("/help/articles/", "/help/categories/")) or bare == "/help":
                pending.append(bare)
                continue
            if link not in checked:
                checked[link] = (await client.get(link)).status_code
            if checked[link] == 404:
                dead[link] = path
    return articles, dead


async def test_no_help_page_links_to_a_missing_page(desk: Desk) -> None:
    client = (await with_demo(desk)).client()
    for lang in ("en", "zh-CN"):
        articles, dead = await _walk(client, lang)
        assert articles >= 60, articles  # the walk reached every demo article
        assert dead == {}, f"{lang}: {dead}"


def test_the_walk_would_see_a_dead_path_written_in_an_article() -> None:
    page = ('<div class="help-body"><p>Go to <code>/self-service/x</code> or '
            '<a href="/portal/reset?a=1&amp;b=2">reset</a></p></div>')
    assert _links(page) == {"/self-service/x", "/portal/reset?a=1&b=2"}
