"""A walk through the desk as a customer, an agent and an admin, in both languages:
every page reachable by a link answers, none with a 404 or a server error."""

import re
from urllib.parse import urljoin, urlsplit

import httpx

from conftest import Desk, agent_client, customer_client, reference_from, submit_ticket
from kefu.accounts.models import Role

HREF = re.compile(r'href="([^"#]+)')
MAX_PAGES = 120
# Downloads and endpoints that are not pages; the help centre has its own walk
# (tests/kb/test_help_links.py).
SKIP = ("/attachments/", "/static/", "/help/", "/docs", "/openapi.json",
        "/metrics", "/_fake_exchange")


async def _walk(client: httpx.AsyncClient, start: str, lang: str
                ) -> tuple[int, dict[str, int]]:
    """How many pages were visited from `start` (at most MAX_PAGES), and the broken ones."""
    pending, seen, broken = [start], set[str](), dict[str, int]()
    while pending and len(seen) < MAX_PAGES:
        path = pending.pop(0)
        if path in seen:
            continue
        seen.add(path)
        page = await client.get(path, params={"lang": lang})
        if page.status_code == 404 or page.status_code >= 500:
            broken[path] = page.status_code
            continue
        if "text/html" not in page.headers.get("content-type", ""):
            continue
        for href in HREF.findall(page.text):
            target = urlsplit(urljoin(path, href.replace("&amp;", "&")))
            if target.netloc and target.netloc != "kefu.test":
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link.startswith(SKIP) or link in seen:
                continue
            pending.append(link)
    return len(seen), broken


async def test_no_dead_link_or_server_error_for_anyone_in_either_language(
        desk: Desk) -> None:
    customer = await customer_client(desk)
    reference = reference_from(await submit_ticket(customer))
    agent = await agent_client(desk)
    await agent.post(f"/console/tickets/{reference}/reply", data={"body": "Checking."})
    admin = await agent_client(desk, role=Role.ADMIN)
    for who, client, start, least in (
            ("visitor", desk.client(), "/", 5), ("customer", customer, "/", 8),
            ("agent", agent, "/console", 10), ("admin", admin, "/admin/agents", 15)):
        for lang in ("en", "zh-CN"):
            visited, broken = await _walk(client, start, lang)
            assert broken == {}, (who, lang)
            assert visited >= least, (who, lang, visited)
