"""Transfer facts and the exchange's deposit/withdrawal status on the ticket pages.

The console and portal ticket pages merge `agent_facts_context` / `customer_facts_context`
into their own context and include `console/_ticket_facts.html` /
`portal/_ticket_transfer.html`. The one action here: an agent's one-click status lookup.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kefu.integrations.exchange.base import (
    Direction,
    ExchangeError,
    ExchangeNotConfigured,
    ExchangeRejected,
)
from kefu.integrations.exchange.config import backend_from_settings
from kefu.integrations.exchange.transfers import (
    REASON_TEXT,
    STATUS_TEXT,
    check_transfer,
    guess_direction,
    latest_check,
)
from kefu.tickets import queries
from kefu.tickets.access import access_ticket_for_agent
from kefu.tickets.models import Ticket
from kefu.triage.facts import facts_view
from kefu.web.deps import CurrentAgent, DbSession, Settings, rollback
from kefu.web.forms import read_form

router = APIRouter(include_in_schema=False)
# ?transfer_error= codes and what the agent reads (msgids; messages.po has zh).
ERRORS = {
    "not_configured": "No exchange is connected, so the status cannot be looked up.",
    "unavailable": "The exchange did not answer. Please try again in a minute.",
    "rejected": "The exchange refused this lookup.",
    "unknown": "Choose a TxID or order ID found in this ticket.",
}
_TEXTS = {"status_text": STATUS_TEXT, "reason_text": REASON_TEXT}


async def agent_facts_context(db: DbSession, ticket: Ticket) -> dict[str, Any]:
    """The include reads ?transfer_error= itself (through `transfer_errors`)."""
    facts = await facts_view(db, ticket_id=ticket.id, subject=ticket.subject,
                             description=ticket.description, txid=ticket.txid)
    return {"facts": facts, "transfer": await latest_check(db, ticket.id),
            "same_transfer": await queries.same_transfer_tickets(db=db, ticket=ticket),
            "transfer_direction": guess_direction(f"{ticket.subject}\n{ticket.description}"),
            "transfer_errors": ERRORS, **_TEXTS}


async def customer_facts_context(db: DbSession, ticket: Ticket) -> dict[str, Any]:
    return {"transfer": await latest_check(db, ticket.id), **_TEXTS}


@router.post("/console/tickets/{reference}/transfer-status")
async def transfer_status(request: Request, db: DbSession, settings: Settings,
                          agent: CurrentAgent, reference: str) -> Response:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    form = await read_form(request, "lookup", "direction")
    kind, _, value = form["lookup"].partition(":")
    facts = await facts_view(db, ticket_id=ticket.id, subject=ticket.subject,
                             description=ticket.description, txid=ticket.txid)
    back = f"/console/tickets/{reference}"
    if (kind, value) not in facts.lookups or form["direction"] not in set(Direction):
        return RedirectResponse(f"{back}?transfer_error=unknown#ticket-facts", status_code=303)
    try:
        await check_transfer(db=db, backend=backend_from_settings(settings),
                             ticket_id=ticket.id, reference=ticket.reference, agent=agent,
                             direction=Direction(form["direction"]), kind=kind, value=value)
        await db.commit()
    except ExchangeError as exc:
        await rollback(db, agent)
        code = ("not_configured" if isinstance(exc, ExchangeNotConfigured)
                else "rejected" if isinstance(exc, ExchangeRejected) else "unavailable")
        return RedirectResponse(f"{back}?transfer_error={code}#ticket-facts", status_code=303)
    return RedirectResponse(f"{back}#ticket-facts", status_code=303)
