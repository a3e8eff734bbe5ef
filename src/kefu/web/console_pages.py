"""The agent console: inbox views, ticket work (reply, note, assign, priority, status)."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent
from kefu.core.errors import InvalidInput, KefuError
from kefu.macros import service as macros
from kefu.security.content import SecretRequestBlocked
from kefu.tickets import feed, queries
from kefu.tickets import service as tickets
from kefu.tickets.access import access_ticket_for_agent
from kefu.tickets.customer_context import customer_context
from kefu.tickets.files import check_uploads
from kefu.tickets.models import Priority, Status
from kefu.tickets.schemas import TicketUpdate
from kefu.tickets.workflow import apply_update
from kefu.web.blocked import record_blocked
from kefu.web.deps import CurrentAgent, DbSession, Lang, Settings, Store, rollback
from kefu.web.forms import read_form, read_uploads
from kefu.web.mailbox_pages import email_ticket_context
from kefu.web.templating import render
from kefu.web.ticket_facts_pages import agent_facts_context

router = APIRouter(include_in_schema=False)


@router.get("/console")
async def inbox(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                view: str = "all_open", q: str = "", page: int = 1, notice: str = "",
                bulk_done: str = "", bulk_failed: str = "") -> Response:
    try:
        chosen = queries.View(view)
    except ValueError:
        chosen = queries.View.ALL_OPEN
    result = await queries.agent_inbox(db=db, agent=agent, view=chosen, search=q, page=page)
    return render(request, "console/inbox.html", lang, {
        "agent": agent, "page": result, "view": chosen.value, "views": list(queries.View),
        "q": q, "notice": notice, "live_since": await feed.latest_id(db),
        "bulk_done": int(bulk_done) if bulk_done.isdigit() and len(bulk_done) < 6 else None,
        "bulk_failed": [r for r in bulk_failed.split(",") if r][:MAX_LISTED_FAILED],
        "teams": await accounts.list_teams(db=db), "agents": await _active_agents(db),
        "statuses": list(Status), "priorities": list(Priority),
    })


MAX_LISTED_FAILED = 100


async def _active_agents(db: DbSession) -> list[Agent]:
    rows = await db.execute(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name))
    return list(rows.scalars().all())


async def _ticket_context(db: DbSession, agent: Agent, reference: str) -> dict[str, object]:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    detail = await queries.ticket_detail(db=db, ticket=ticket, include_internal=True)
    agents = await _active_agents(db)
    context = await customer_context(db=db, agent=agent, ticket=ticket)
    return {"agent": agent, "ticket": detail, "customer_context": context,
            "teams": await accounts.list_teams(db=db),
            "agents": agents, "statuses": list(Status), "priorities": list(Priority),
            "live_since": await feed.latest_id(db), **await agent_facts_context(db, ticket),
            **await email_ticket_context(db, ticket)}


@router.get("/console/tickets/{reference}")
async def ticket_page(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                      reference: str) -> Response:
    return render(request, "console/ticket.html", lang,
                  await _ticket_context(db, agent, reference))


@router.post("/console/tickets/{reference}/reply")
async def reply(request: Request, db: DbSession, settings: Settings, store: Store, lang: Lang,
                agent: CurrentAgent, reference: str) -> Response:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    form = await read_form(request, "body", "internal", "status", "macro_id")
    try:
        if not form["body"].strip():
            raise InvalidInput("Please write a message.")
        files = check_uploads(await read_uploads(request), max_bytes=settings.max_upload_bytes,
                              max_count=settings.max_attachments_per_message)
        await tickets.add_agent_message(db=db, store=store, ticket=ticket, agent=agent,
                                        body=form["body"], internal=form["internal"] == "1",
                                        files=files)
        if form["macro_id"].isdigit():
            macro = await macros.access_macro_by_id(db=db, agent=agent,
                                                    macro_id=int(form["macro_id"]))
            await macros.apply_to_ticket(db=db, agent=agent, macro=macro, ticket=ticket)
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
    form = await read_form(request, "status", "priority", "team", "assignee_id", "assignee_email")
    data = {k: v for k, v in form.items() if v}
    if "-" in (form["assignee_id"], form["assignee_email"]):  # the form's "nobody" choice
        data.pop("assignee_id", None)
        data.pop("assignee_email", None)
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
