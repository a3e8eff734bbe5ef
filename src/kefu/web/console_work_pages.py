"""Console shortcuts through the queue: assign to me, take the next ticket, and bulk
changes to a selection of tickets in a view."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from kefu.chat.queries import live_chat_tickets
from kefu.core.errors import KefuError
from kefu.tickets.access import access_ticket_for_agent
from kefu.tickets.schemas import TicketUpdate
from kefu.tickets.workflow import apply_update, take_next
from kefu.web.deps import CurrentAgent, DbSession, rollback
from kefu.web.forms import read_form, safe_next

router = APIRouter(include_in_schema=False)
MAX_SELECTED = 100
BULK_FIELDS = ("assignee_id", "team", "priority", "status")


@router.post("/console/tickets/{reference}/take")
async def assign_to_me(db: DbSession, agent: CurrentAgent, reference: str) -> Response:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    await apply_update(db=db, ticket=ticket, agent=agent,
                       update=TicketUpdate(assignee_id=agent.id))
    await db.commit()
    return RedirectResponse(f"/console/tickets/{reference}", status_code=303)


@router.post("/console/take-next")
async def take_next_ticket(db: DbSession, agent: CurrentAgent) -> Response:
    ticket = await take_next(db=db, agent=agent, routed_elsewhere=live_chat_tickets())
    await db.commit()
    if ticket is None:
        return RedirectResponse("/console?view=team_unassigned&notice=queue_empty",
                                status_code=303)
    return RedirectResponse(f"/console/tickets/{ticket.reference}", status_code=303)


def _bulk_update(form: dict[str, str]) -> TicketUpdate:
    data: dict[str, str] = {k: form[k] for k in BULK_FIELDS if form[k]}
    if data.get("assignee_id") == "-":
        del data["assignee_id"]
        data["unassign"] = "true"
    return TicketUpdate.model_validate(data)


@router.post("/console/bulk")
async def bulk(request: Request, db: DbSession, agent: CurrentAgent) -> Response:
    """One change to every selected ticket. Each ticket commits alone: a ticket that
    cannot take the change (closed, not visible) is reported and the others still change."""
    raw = await request.form()
    references = list(dict.fromkeys(
        str(r)[:20] for r in raw.getlist("ref") if isinstance(r, str)))[:MAX_SELECTED]
    form = await read_form(request, *BULK_FIELDS, "next")
    back = safe_next(form["next"], "/console")
    try:
        change = _bulk_update(form)
    except ValidationError:
        return _back(back, done=0, failed=references, reason="invalid")
    done, failed = 0, []
    for reference in references:
        try:
            ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
            await apply_update(db=db, ticket=ticket, agent=agent, update=change)
            await db.commit()
            done += 1
        except KefuError:
            await rollback(db, agent)
            failed.append(reference)
    return _back(back, done=done, failed=failed)


def _back(path: str, *, done: int, failed: list[str], reason: str = "") -> Response:
    query = {"bulk_done": str(done), "bulk_failed": ",".join(failed)[:1000]}
    if reason:
        query["bulk_reason"] = reason
    joiner = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{joiner}{urlencode(query)}", status_code=303)
