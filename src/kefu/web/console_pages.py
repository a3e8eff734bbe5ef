"""The agent console: inbox views, ticket work (reply, note, assign, priority, status)."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent
from kefu.core.errors import InvalidInput, KefuError
from kefu.security.content import SecretRequestBlocked
from kefu.tickets import queries
from kefu.tickets import service as tickets
from kefu.tickets.access import access_ticket_for_agent
from kefu.tickets.files import check_uploads
from kefu.tickets.models import Priority, Status
from kefu.tickets.schemas import TicketUpdate
from kefu.tickets.workflow import apply_update
from kefu.web.blocked import record_blocked
from kefu.web.deps import CurrentAgent, DbSession, Lang, Settings, Store, rollback
from kefu.web.forms import read_form, read_uploads
from kefu.web.templating import render
from kefu.web.ticket_facts_pages import agent_facts_context

router = APIRouter(include_in_schema=False)


@router.get("/console")
async def inbox(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                view: str = "all_open", q: str = "", page: int = 1) -> Response:
    try:
        chosen = queries.View(view)
    except ValueError:
        chosen = queries.View.ALL_OPEN
    result = await queries.agent_inbox(db=db, agent=agent, view=chosen, search=q, page=page)
    return render(request, "console/inbox.html", lang, {
        "agent": agent, "page": result, "view": chosen.value, "views": list(queries.View),
        "q": q,
    })


async def _ticket_context(db: DbSession, agent: Agent, reference: str) -> dict[str, object]:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    detail = await queries.ticket_detail(db=db, ticket=ticket, include_internal=True)
    agents = (await db.execute(select(Agent).where(Agent.active.is_(True))
                               .order_by(Agent.name))).scalars().all()
    return {"agent": agent, "ticket": detail, "teams": await accounts.list_teams(db=db),
            "agents": agents, "statuses": list(Status), "priorities": list(Priority),
            **await agent_facts_context(db, ticket)}


@router.get("/console/tickets/{reference}")
async def ticket_page(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                      reference: str) -> Response:
    return render(request, "console/ticket.html", lang,
                  await _ticket_context(db, agent, reference))


@router.post("/console/tickets/{reference}/reply")
async def reply(request: Request, db: DbSession, settings: Settings, store: Store, lang: Lang,
                agent: CurrentAgent, reference: str) -> Response:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    form = await read_form(request, "body", "internal", "status")
    try:
        if not form["body"].strip():
            raise InvalidInput("Please write a message.")
        files = check_uploads(await read_uploads(request), max_bytes=settings.max_upload_bytes,
                              max_count=settings.max_attachments_per_message)
        await tickets.add_agent_message(db=db, store=store, ticket=ticket, agent=agent,
                                        body=form["body"], internal=form["internal"] == "1",
                                        files=files)
        if form["status"]:
            await apply_update(db=db, ticket=ticket, agent=agent,
                               update=TicketUpdate(status=Status(form["status"])))
        await db.commit()
    except SecretRequestBlocked as exc:
        await record_blocked(db, exc, agent_id=agent.id, reference=reference)
        await db.refresh(agent)
        return await _rerender(request, db, lang, agent, reference, exc.message, form["body"])
    except (KefuError, ValueError) as exc:
        await rollback(db, agent)
        message = exc.message if isinstance(exc, KefuError) else "Invalid status."
        return await _rerender(request, db, lang, agent, reference, message, form["body"])
    return RedirectResponse(f"/console/tickets/{reference}", status_code=303)


async def _rerender(request: Request, db: DbSession, lang: str, agent: Agent, reference: str,
                    error: str, draft: str = "") -> Response:
    context = await _ticket_context(db, agent, reference)
    return render(request, "console/ticket.html", lang,
                  {**context, "error": error, "draft": draft}, status_code=422)


@router.post("/console/tickets/{reference}/update")
async def update(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                 reference: str) -> Response:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    form = await read_form(request, "status", "priority", "team", "assignee_email")
    data = {k: v for k, v in form.items() if v}
    if form["assignee_email"] == "-":
        data.pop("assignee_email")
        data["unassign"] = "true"
    try:
        await apply_update(db=db, ticket=ticket, agent=agent,
                           update=TicketUpdate.model_validate(data))
        await db.commit()
    except (KefuError, ValidationError) as exc:
        await rollback(db, agent)
        message = exc.message if isinstance(exc, KefuError) else "Invalid change."
        return await _rerender(request, db, lang, agent, reference, message)
    return RedirectResponse(f"/console/tickets/{reference}", status_code=303)
