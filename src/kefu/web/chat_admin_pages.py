"""Admin: the sites that embed the chat widget (origins, "verified users only", the
secret their servers sign UIDs with) and when each team answers chats."""

import re
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent, Team
from kefu.chat.hours import parse_hours
from kefu.chat.models import ChatSite
from kefu.chat.sites import add_site, list_sites, update_site
from kefu.core.audit import record
from kefu.core.errors import InvalidInput, KefuError, NotFound
from kefu.web.deps import AdminAgent, DbSession, Lang, rollback
from kefu.web.forms import read_form
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/admin/chat")
_KEY = re.compile(r"[a-z0-9-]{2,64}")


async def _page(request: Request, db: DbSession, lang: str, admin: Agent, *,
                error: str | None = None, shown_secret: tuple[str, str] | None = None,
                status_code: int = 200) -> Response:
    return render(request, "admin/chat.html", lang, {
        "agent": admin, "sites": await list_sites(db), "teams": await accounts.list_teams(db=db),
        "error": error, "shown_secret": shown_secret}, status_code=status_code)


@router.get("")
async def page(request: Request, db: DbSession, lang: Lang, admin: AdminAgent) -> Response:
    return await _page(request, db, lang, admin)


@router.post("/sites")
async def create(request: Request, db: DbSession, lang: Lang, admin: AdminAgent) -> Response:
    form = await read_form(request, "key", "name", "origins", "verified_only")
    try:
        key = form["key"].strip().lower()
        if not _KEY.fullmatch(key):
            raise InvalidInput("The site key is 2-64 lowercase letters, digits or dashes.")
        secret = secrets.token_hex(32)
        site = await add_site(db, key=key, name=form["name"] or key, secret=secret)
        await update_site(db, site, name=form["name"] or key, origins=form["origins"],
                          verified_only=form["verified_only"] == "1")
        record(db, actor=("agent", admin.id), action="chat.site_added", target=("site", key))
        await db.commit()
    except KefuError as exc:
        await rollback(db, admin)
        return await _page(request, db, lang, admin, error=exc.message,
                           status_code=exc.status_code)
    # The secret is shown once, now: the exchange's server keeps it to sign UIDs.
    return await _page(request, db, lang, admin, shown_secret=(key, secret))


@router.post("/sites/{site_id}")
async def update(request: Request, db: DbSession, lang: Lang, admin: AdminAgent,
                 site_id: int) -> Response:
    site = await db.get(ChatSite, site_id)
    if site is None:
        raise NotFound()
    form = await read_form(request, "name", "origins", "verified_only")
    try:
        await update_site(db, site, name=form["name"], origins=form["origins"],
                          verified_only=form["verified_only"] == "1")
        record(db, actor=("agent", admin.id), action="chat.site_changed",
               target=("site", site.key), detail={"verified_only": site.verified_only})
        await db.commit()
    except KefuError as exc:
        await rollback(db, admin)
        return await _page(request, db, lang, admin, error=exc.message,
                           status_code=exc.status_code)
    return RedirectResponse("/admin/chat", status_code=303)


@router.post("/teams/{team_id}/hours")
async def hours(request: Request, db: DbSession, lang: Lang, admin: AdminAgent,
                team_id: int) -> Response:
    team = await db.get(Team, team_id)
    if team is None:
        raise NotFound()
    text = (await read_form(request, "hours"))["hours"].strip()
    try:
        parse_hours(text)
    except ValueError as exc:
        return await _page(request, db, lang, admin, error=str(exc), status_code=422)
    team.hours = text or None
    record(db, actor=("agent", admin.id), action="chat.team_hours_changed",
           target=("team", team.slug), detail={"hours": team.hours})
    await db.commit()
    return RedirectResponse("/admin/chat", status_code=303)
