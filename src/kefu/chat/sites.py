"""Sites that embed the widget, and the signed UIDs their pages pass.

A host page that knows its signed-in user passes their UID with an expiry and an HMAC
over both made with the site's secret (on the exchange's server, never in the page's
script). A good signature makes the UID verified; a site set to "verified users only"
refuses anything else, and elsewhere an unsigned or bad one is an anonymous visitor: a
wrong signature is never taken as the UID.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat.models import ChatSite
from kefu.core.clock import utcnow
from kefu.core.errors import Forbidden, InvalidInput, NotFound

DEMO_SITE = "demo"
MAX_UID = 64


def uid_signature(secret: str, uid: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{uid}:{expires}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedUid:
    uid: str
    expires: int
    signature: str


def verified_uid(site: ChatSite, signed: SignedUid | None) -> str | None:
    """The UID when its signature is good and unexpired; None for an anonymous visitor;
    Forbidden where the site admits verified users only."""
    uid = _checked(site, signed)
    if uid is None and site.verified_only:
        raise Forbidden("This chat is for signed-in users: please sign in and try again.")
    return uid


def _checked(site: ChatSite, signed: SignedUid | None) -> str | None:
    if signed is None or not signed.uid:
        return None
    uid = signed.uid.strip()
    if len(uid) > MAX_UID or not uid.isalnum():
        return None
    if signed.expires < int(utcnow().timestamp()):
        return None
    expected = uid_signature(site.secret, uid, signed.expires)
    if not hmac.compare_digest(expected, signed.signature.strip().lower()):
        return None
    return uid


async def site_by_key(db: AsyncSession, key: str) -> ChatSite:
    site = (await db.execute(select(ChatSite).where(ChatSite.key == key[:64]))).scalar_one_or_none()
    if site is None:
        raise NotFound("Unknown chat site.")
    return site


async def add_site(db: AsyncSession, *, key: str, name: str, origins: str = "",
                   verified_only: bool = False, secret: str | None = None) -> ChatSite:
    site = ChatSite(key=key, name=name, secret=secret or secrets.token_hex(32),
                    verified_only=verified_only, origins=origins, created_at=utcnow())
    db.add(site)
    await db.flush()
    return site


async def ensure_demo_site(db: AsyncSession, secret_key: str) -> None:
    """The demo host page's site; its secret derives from the desk's, so the demo page
    can sign a UID without another setting."""
    existing = (await db.execute(select(ChatSite.id).where(ChatSite.key == DEMO_SITE))).first()
    if existing is None:
        await add_site(db, key=DEMO_SITE, name="Kefu demo", secret=demo_secret(secret_key))


def demo_secret(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"chat-site:demo", hashlib.sha256).hexdigest()


async def update_site(db: AsyncSession, site: ChatSite, *, name: str, origins: str,
                      verified_only: bool) -> None:
    site.name = name.strip()[:100] or site.name
    site.origins = " ".join(checked_origin(o) for o in origins.split())
    site.verified_only = verified_only


def checked_origin(origin: str) -> str:
    """An origin as browsers send it: scheme://host[:port], nothing after."""
    origin = origin.strip().rstrip("/").lower()
    scheme, _, rest = origin.partition("://")
    if scheme not in ("http", "https") or not rest or "/" in rest or len(origin) > 200:
        raise InvalidInput(f"Not an origin: {origin[:60]} (like https://www.example.com)")
    return origin


async def list_sites(db: AsyncSession) -> list[ChatSite]:
    return list((await db.execute(select(ChatSite).order_by(ChatSite.id))).scalars())
