"""Canned responses in the console: manage them (/console/macros) and find them while
typing a reply (/console/macros/suggest, JSON for the reply box's script)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent
from kefu.core.errors import KefuError, NotFound
from kefu.core.i18n import translate
from kefu.macros import service as macros
from kefu.macros.models import Macro
from kefu.macros.schemas import MacroFields
from kefu.tickets.access import access_ticket_for_agent
from kefu.tickets.models import Priority, Status
from kefu.web.deps import CurrentAgent, DbSession, Lang, rollback
from kefu.web.forms import read_form
from kefu.web.templating import render

router = APIRouter(include_in_schema=False, prefix="/console/macros")
FIELDS = ("title", "body_en", "body_zh", "scope", "team", "set_status", "set_priority",
          "set_team")
SUGGESTIONS = 8


def _fields(form: dict[str, str]) -> MacroFields:
    return MacroFields.model_validate({k: v for k, v in form.items() if v})


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    message = str(error.get("msg", "Invalid input."))
    return message.removeprefix("Value error, ")


async def _page(request: Request, db: DbSession, lang: str, agent: Agent, *,
                editing: Macro | None = None, form: dict[str, str] | None = None,
                error: str = "", status_code: int = 200) -> Response:
    listed = await macros.visible_macros(db=db, agent=agent)
    teams = await accounts.list_teams(db=db)
    return render(request, "console/macros.html", lang, {
        "agent": agent, "macros": listed, "teams": teams,
        "team_slugs": {t.id: t.slug for t in teams},
        "team_names": {t.id: (t.name_zh or t.name) if lang == "zh-CN" else t.name
                       for t in teams},
        "manageable": {m.id for m in listed if macros.may_manage(agent, m)},
        "editing": editing, "form": form or _form_of(editing, agent, teams),
        "statuses": list(Status), "priorities": list(Priority),
        "variables": macros.VARIABLES, "error": translate(lang, error) if error else "",
    }, status_code=status_code)


def _form_of(macro: Macro | None, agent: Agent, teams: Any) -> dict[str, str]:
    slugs = {t.id: t.slug for t in teams}
    if macro is None:
        return {"scope": "personal", "team": agent.team.slug if agent.team else ""}
    return {"title": macro.title, "body_en": macro.body_en, "body_zh": macro.body_zh,
            "scope": "personal" if macro.owner_id is not None else "team",
            "team": slugs.get(macro.team_id or 0, ""), "set_status": macro.set_status or "",
            "set_priority": macro.set_priority or "",
            "set_team": slugs.get(macro.set_team_id or 0, "")}


@router.get("")
async def macro_list(request: Request, db: DbSession, lang: Lang,
                     agent: CurrentAgent) -> Response:
    return await _page(request, db, lang, agent)


@router.post("")
async def macro_create(request: Request, db: DbSession, lang: Lang,
                       agent: CurrentAgent) -> Response:
    form = await read_form(request, *FIELDS)
    try:
        await macros.create_macro(db=db, agent=agent, fields=_fields(form))
        await db.commit()
    except (KefuError, ValidationError) as exc:
        await rollback(db, agent)
        message = exc.message if isinstance(exc, KefuError) else _first_error(exc)
        return await _page(request, db, lang, agent, form=form, error=message, status_code=422)
    return RedirectResponse("/console/macros", status_code=303)


@router.get("/suggest")
async def suggest(db: DbSession, agent: CurrentAgent, q: str = "",
                  ticket: str = "") -> Response:
    """Macros matching what is typed after "/" in the reply box, each with its text in the
    ticket's customer's language and its variables filled in for that ticket."""
    found = await access_ticket_for_agent(db=db, agent=agent, reference=ticket[:20])
    listed = await macros.visible_macros(db=db, agent=agent, query=q[:100],
                                         limit=SUGGESTIONS)
    return JSONResponse({"results": [
        {"id": m.id, "title": m.title, "text": macros.text_for_ticket(m, found, agent),
         "sets": {"status": m.set_status, "priority": m.set_priority,
                  "team": m.set_team_id is not None}}
        for m in listed]})


@router.get("/{macro_id}")
async def macro_edit(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                     macro_id: int) -> Response:
    macro = await macros.access_macro_by_id(db=db, agent=agent, macro_id=macro_id)
    return await _page(request, db, lang, agent, editing=macro)


@router.post("/{macro_id}")
async def macro_update(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                       macro_id: int) -> Response:
    macro = await macros.access_macro_by_id(db=db, agent=agent, macro_id=macro_id)
    if not macros.may_manage(agent, macro):
        raise NotFound()
    form = await read_form(request, *FIELDS)
    try:
        await macros.update_macro(db=db, agent=agent, macro=macro, fields=_fields(form))
        await db.commit()
    except (KefuError, ValidationError) as exc:
        await rollback(db, agent, macro)
        message = exc.message if isinstance(exc, KefuError) else _first_error(exc)
        return await _page(request, db, lang, agent, editing=macro, form=form, error=message,
                           status_code=422)
    return RedirectResponse("/console/macros", status_code=303)


@router.post("/{macro_id}/delete")
async def macro_delete(db: DbSession, agent: CurrentAgent, macro_id: int) -> Response:
    macro = await macros.access_macro_by_id(db=db, agent=agent, macro_id=macro_id)
    await macros.delete_macro(db=db, agent=agent, macro=macro)
    await db.commit()
    return RedirectResponse("/console/macros", status_code=303)
