"""The chat widget's loader (`GET /widget.js`) and a demo host page that embeds it
(`GET /chat/demo`). The panel the loader fetches on click is plain static files under
/static/chat/; the loader names them with a hash of their content, so a changed panel
is never read from a stale cache."""

import gzip
import hashlib
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from kefu.chat.models import ChatSite
from kefu.chat.sites import DEMO_SITE, uid_signature
from kefu.web.deps import DbSession, Lang, Settings
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"
LOADER = STATIC / "widget.js"
PANEL_FILES = tuple(STATIC / "chat" / name
                    for name in ("strings.js", "conn.js", "panel.js", "panel.css"))
VERSION_MARK = b"__KEFU_VERSION__"
# Host pages embed a fixed URL, so the loader cannot be cached for long; revalidating
# with the ETag after ten minutes is cheap.
LOADER_CACHE = "public, max-age=600"
DEMO_UID = "10001"
DEMO_SIGNATURE_SECONDS = 3600


@dataclass(frozen=True)
class Loader:
    body: bytes
    gzipped: bytes
    etag: str


def _stamp() -> tuple[int, ...]:
    return tuple(path.stat().st_mtime_ns for path in (LOADER, *PANEL_FILES))


@lru_cache(maxsize=2)
def _loader(stamp: tuple[int, ...]) -> Loader:
    """The loader with the panel's version filled in; rebuilt when a file changes."""
    digest = hashlib.sha256()
    for path in PANEL_FILES:
        digest.update(path.read_bytes())
    version = digest.hexdigest()[:12].encode()
    body = LOADER.read_bytes().replace(VERSION_MARK, version)
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return Loader(body, gzip.compress(body, compresslevel=9, mtime=0), etag)


def _accepts_gzip(request: Request) -> bool:
    return any(part.split(";")[0].strip() == "gzip"
               for part in request.headers.get("accept-encoding", "").split(","))


@router.get("/widget.js")
async def widget_js(request: Request) -> Response:
    loader = _loader(_stamp())
    headers = {
        "cache-control": LOADER_CACHE, "etag": loader.etag, "vary": "Accept-Encoding",
        # Loaded by <script> from other sites' pages, including ones that isolate
        # themselves with Cross-Origin-Embedder-Policy.
        "cross-origin-resource-policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == loader.etag:
        return Response(status_code=304, headers=headers)
    media_type = "text/javascript; charset=utf-8"
    if _accepts_gzip(request):
        return Response(loader.gzipped, media_type=media_type,
                        headers={**headers, "content-encoding": "gzip"})
    return Response(loader.body, media_type=media_type, headers=headers)


@router.get("/chat/demo", response_class=HTMLResponse)
async def chat_demo(request: Request, db: DbSession, settings: Settings, lang: Lang,
                    signed: bool = False) -> Response:
    """A stand-in for an exchange's page. With ?signed=1 (never in production, where it
    would vouch for anyone) the embed also carries a signed demo UID, as a host page of
    a signed-in user does."""
    signed_attrs: dict[str, str] | None = None
    if signed and settings.environment != "production":
        site = (await db.execute(select(ChatSite).where(ChatSite.key == DEMO_SITE))
                ).scalar_one_or_none()
        if site is not None:
            expires = int(time.time()) + DEMO_SIGNATURE_SECONDS
            signed_attrs = {"uid": DEMO_UID, "expires": str(expires),
                            "signature": uid_signature(site.secret, DEMO_UID, expires)}
    return render(request, "chat/demo.html", lang,
                  {"site_key": DEMO_SITE, "signed": signed_attrs,
                   "base_url": settings.base_url.rstrip("/")})
