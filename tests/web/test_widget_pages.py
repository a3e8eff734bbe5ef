"""The chat widget's loader, its lazily loaded panel files and the demo host page."""

import gzip
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from conftest import Desk
from kefu.chat.models import ChatSite, ProblemType

STATIC = Path(__file__).resolve().parents[2] / "src" / "kefu" / "web" / "static"
LOADER_LIMIT_GZIPPED = 30 * 1024
ONE_LINE_EMBED = '<script src="/widget.js" data-site="demo" async></script>'


async def _raw(desk: Desk, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body exactly as sent (httpx would undo the gzip)."""
    async with desk.client() as client, client.stream("GET", path, headers=headers) as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return response.status_code, dict(response.headers), body


async def test_the_loader_is_javascript_cached_and_revalidated(desk: Desk) -> None:
    status, headers, body = await _raw(desk, "/widget.js", **{"accept-encoding": "identity"})
    assert status == 200
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=600"
    assert headers["cross-origin-resource-policy"] == "cross-origin"
    assert "content-encoding" not in headers
    assert b"__KEFU_VERSION__" not in body  # the panel's version is filled in
    assert re.search(rb'VERSION = "[0-9a-f]{12}"', body)
    again, cached, empty = await _raw(desk, "/widget.js", **{"if-none-match": headers["etag"]})
    assert again == 304 and empty == b"" and cached["etag"] == headers["etag"]
    stale, _, _ = await _raw(desk, "/widget.js", **{"if-none-match": '"something-else"'})
    assert stale == 200


async def test_the_loader_goes_out_gzipped_and_under_30_kb(desk: Desk) -> None:
    _, _, plain = await _raw(desk, "/widget.js", **{"accept-encoding": "identity"})
    status, headers, wire = await _raw(desk, "/widget.js", **{"accept-encoding": "gzip, br"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(wire) == plain
    assert len(wire) < LOADER_LIMIT_GZIPPED, f"widget.js is {len(wire)} bytes gzipped"
    # The file on disk too, whatever the server does with it.
    assert len(gzip.compress((STATIC / "widget.js").read_bytes())) < LOADER_LIMIT_GZIPPED


async def test_the_panel_the_loader_names_is_served(desk: Desk) -> None:
    loader = (STATIC / "widget.js").read_text()
    scripts = re.findall(r'"([a-z]+\.js)"', loader)
    assert scripts == ["strings.js", "conn.js", "panel.js"]
    assert "/static/chat/panel.css" in loader
    client = desk.client()
    for name in (*scripts, "panel.css"):
        response = await client.get(f"/static/chat/{name}")
        assert response.status_code == 200, name
        kind = "text/css" if name.endswith(".css") else "javascript"
        assert kind in response.headers["content-type"], name
    # A panel change changes the loader's version, so no browser keeps a stale panel.
    panel_hash = hashlib.sha256(b"".join(
        (STATIC / "chat" / n).read_bytes() for n in (*scripts, "panel.css"))).hexdigest()[:12]
    assert f'VERSION = "{panel_hash}"' in (await client.get("/widget.js")).text


async def test_the_demo_page_embeds_the_widget_with_one_line(desk: Desk) -> None:
    client = desk.client()
    page = await client.get("/chat/demo")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert ONE_LINE_EMBED in page.text
    assert page.text.count("<script") == 1  # nothing else: the one line is all a site needs
    chinese = await client.get("/chat/demo", params={"lang": "zh-CN"})
    assert '<html lang="zh-CN">' in chinese.text and ONE_LINE_EMBED in chinese.text


async def _demo_site(desk: Desk) -> ChatSite:
    async with desk.app.state.session_factory() as db:
        site = (await db.execute(select(ChatSite).where(ChatSite.key == "demo"))
                ).scalar_one_or_none()
        if site is None:  # the demo seed makes one; the tests' desk does not seed
            site = ChatSite(key="demo", name="Demo Exchange", secret=secrets.token_hex(32),
                            created_at=datetime.now(UTC))
            db.add(site)
            await db.commit()
        return site


async def test_the_signed_demo_carries_a_uid_signed_with_the_sites_secret(desk: Desk) -> None:
    site = await _demo_site(desk)
    page = (await desk.client().get("/chat/demo", params={"signed": "1"})).text
    tag = re.search(r'<script src="/widget\.js" data-site="demo" data-uid="(\w+)" '
                    r'data-expires="(\d+)" data-signature="([0-9a-f]{64})" async></script>', page)
    assert tag is not None, page
    uid, expires, signature = tag.groups()
    expected = hmac.new(site.secret.encode(), f"{uid}:{expires}".encode(),
                        hashlib.sha256).hexdigest()
    assert signature == expected
    assert int(expires) > datetime.now(UTC).timestamp()


def test_the_widget_never_parses_text_as_html() -> None:
    for path in (STATIC / "widget.js", *(STATIC / "chat").glob("*.js")):
        source = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{sink} in {path.name}"


def _string_keys(block: str) -> set[str]:
    return set(re.findall(r"^\s+([A-Za-z_]\w*): ", block, re.MULTILINE))


def test_every_panel_string_exists_in_both_languages() -> None:
    source = (STATIC / "chat" / "strings.js").read_text()
    english = source.split("    en: {")[1].split("\n    },")[0]
    chinese = source.split('    "zh-CN": {')[1].split("\n    }")[0]
    assert _string_keys(english) and _string_keys(english) == _string_keys(chinese)
    types = re.search(r"PROBLEM_TYPES = \[([^\]]*)\]", source)
    assert types is not None
    assert re.findall(r'"(\w+)"', types.group(1)) == [t.value for t in ProblemType]
    for problem in ProblemType:
        assert f"type_{problem.value}" in _string_keys(english)
