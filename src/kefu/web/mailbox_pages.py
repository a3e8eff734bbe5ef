"""Admin: the mailboxes the desk receives mail at, each routed to a team, and what they
received. Agents: a ticket's mail as received (sender checks, the full text), and the
addresses the ticket allows besides its customer's (shown, added, removed on the ticket
page, which merges `email_ticket_context` and includes `console/_participants.html`)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from kefu.accounts import service as accounts
from kefu.accounts.models import Agent
from kefu.channels.email import mailboxes, participants
from kefu.channels.email.models import Mailbox
from kefu.core.errors import KefuError, NotFound
from kefu.tickets.access import access_ticket_for_agent
from kefu.tickets.models import Category, Priority, Ticket
from kefu.web.deps import AdminAgent, CurrentAgent, DbSession, Lang, rollback
from kefu.web.forms import read_form
from kefu.web.templating import render
from kefu.web.validation import valid_email

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "team_id", "category", "priority")


async def _page(request: Request, db: DbSession, lang: str, admin: Agent,
                error: str | None = None, status_code: int = 200) -> Response:
    return render(request, "admin/mailboxes.html", lang, {
        "agent": admin, "mailboxes": await mailboxes.list_mailboxes(db=db),
        "teams": await accounts.list_teams(db=db), "categories": list(Category),
        "priorities": list(Priority), "error": error}, status_code=status_code)


def _team_id(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@router.get("/admin/mailboxes")
async def mailboxes_page(request: Request, db: DbSession, lang: Lang,
                         admin: AdminAgent) -> Response:
    return await _page(request, db, lang, admin)


@router.post("/admin/mailboxes")
async def create_mailbox(request: Request, db: DbSession, lang: Lang,
                         admin: AdminAgent) -> Response:
    form = await read_form(request, "address", *FIELDS)
    try:
        await mailboxes.create_mailbox(
            db=db, actor=admin, address=valid_email(form["address"]), name=form["name"],
            team_id=_team_id(form["team_id"]), category=form["category"],
            priority=form["priority"])
        await db.commit()
    except KefuError as exc:
        await rollback(db, admin)
        return await _page(request, db, lang, admin, exc.message, exc.status_code)
    return RedirectResponse("/admin/mailboxes", status_code=303)


@router.post("/admin/mailboxes/{mailbox_id}")
async def update_mailbox(request: Request, db: DbSession, lang: Lang, admin: AdminAgent,
                         mailbox_id: int) -> Response:
    mailbox = await db.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound()
    form = await read_form(request, *FIELDS, "active")
    try:
        await mailboxes.update_mailbox(
            db=db, actor=admin, mailbox=mailbox, name=form["name"],
            team_id=_team_id(form["team_id"]), category=form["category"],
            priority=form["priority"], active=form["active"] == "1")
        await db.commit()
    except KefuError as exc:
        await rollback(db, admin)
        return await _page(request, db, lang, admin, exc.message, exc.status_code)
    return RedirectResponse("/admin/mailboxes", status_code=303)


@router.get("/admin/mailboxes/{mailbox_id}/messages")
async def received_page(request: Request, db: DbSession, lang: Lang, admin: AdminAgent,
                        mailbox_id: int) -> Response:
    mailbox = await db.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound()
    return render(request, "admin/mailbox_messages.html", lang, {
        "agent": admin, "mailbox": mailbox,
        "messages": await mailboxes.received(db=db, mailbox_id=mailbox.id)})


@router.post("/admin/mailboxes/{mailbox_id}/imap")
async def set_imap(request: Request, db: DbSession, lang: Lang, admin: AdminAgent,
                   mailbox_id: int) -> Response:
    mailbox = await db.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound()
    form = await read_form(request, "host", "port", "username", "password", "folder")
    try:
        await mailboxes.set_imap(db=db, actor=admin, mailbox=mailbox, host=form["host"],
                                 port=form["port"], username=form["username"],
                                 password=form["password"], folder=form["folder"])
        await db.commit()
    except KefuError as exc:
        await rollback(db, admin)
        return render(request, "admin/mailbox_messages.html", lang, {
            "agent": admin, "mailbox": mailbox, "error": exc.message,
            "messages": await mailboxes.received(db=db, mailbox_id=mailbox.id)},
            status_code=exc.status_code)
    return RedirectResponse(f"/admin/mailboxes/{mailbox_id}/messages", status_code=303)


@router.post("/admin/mailboxes/messages/{raw_id}/reprocess")
async def reprocess(db: DbSession, admin: AdminAgent, raw_id: int) -> Response:
    raw = await mailboxes.reprocess_raw(db=db, actor=admin, raw_id=raw_id)
    await db.commit()
    return RedirectResponse(f"/admin/mailboxes/{raw.mailbox_id}/messages", status_code=303)


@router.get("/console/tickets/{reference}/email")
async def ticket_email(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                       reference: str) -> Response:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    return render(request, "console/ticket_email.html", lang, {
        "agent": agent, "ticket": ticket,
        "messages": await mailboxes.received_for_ticket(db=db, reference=ticket.reference)})


# ?participant_error= codes and what the agent reads (msgids; messages.po has zh).
PARTICIPANT_ERRORS = {
    "invalid": "Please enter a valid email address.",
    "refused": "That address cannot be copied: it is the customer's own, the desk's, or "
               "the ticket copies as many as it may.",
    "missing": "That address is not copied on this ticket.",
}


async def email_ticket_context(db: DbSession, ticket: Ticket) -> dict[str, Any]:
    """What the ticket page's `_participants.html` shows."""
    return {"participants": await participants.participants_of(db=db, ticket_id=ticket.id),
            "participant_errors": PARTICIPANT_ERRORS}


def _back(reference: str, error: str | None = None) -> Response:
    query = f"?participant_error={error}" if error else ""
    return RedirectResponse(f"/console/tickets/{reference}{query}#participants",
                            status_code=303)


@router.post("/console/tickets/{reference}/participants")
async def add_participant(request: Request, db: DbSession, agent: CurrentAgent,
                          reference: str) -> Response:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    reference = ticket.reference  # read before a rollback expires the row
    form = await read_form(request, "address")
    try:
        address = valid_email(form["address"])
    except KefuError:
        return _back(reference, "invalid")
    try:
        await participants.add_participant(db=db, ticket=ticket, agent=agent, address=address)
        await db.commit()
    except KefuError:
        await rollback(db, agent)
        return _back(reference, "refused")
    return _back(reference)


@router.post("/console/tickets/{reference}/participants/remove")
async def remove_participant(request: Request, db: DbSession, agent: CurrentAgent,
                             reference: str) -> Response:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    reference = ticket.reference  # read before a rollback expires the row
    form = await read_form(request, "address")
    try:
        await participants.remove_participant(db=db, ticket=ticket, agent=agent,
                                              address=form["address"])
        await db.commit()
    except NotFound:
        await rollback(db, agent)
        return _back(reference, "missing")
    return _back(reference)
