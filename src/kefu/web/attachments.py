"""Attachment downloads: access-checked, never rendered inline, never sniffed."""

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from kefu.core.errors import NotFound
from kefu.tickets.access import access_ticket_for_agent, access_ticket_for_customer
from kefu.tickets.files import FileStore
from kefu.tickets.models import Attachment, Direction, Ticket, TicketMessage
from kefu.web.deps import (
    DbSession,
    LoginRequired,
    Settings,
    Store,
    get_current_agent,
    get_current_customer,
)

router = APIRouter(include_in_schema=False)


async def _allowed(request: Request, db: DbSession, settings: Settings, ticket: Ticket,
                   internal: bool) -> bool:
    try:
        agent = await get_current_agent(request, db, settings)
        await access_ticket_for_agent(db=db, agent=agent, reference=ticket.reference)
        return True
    except (LoginRequired, NotFound):
        pass
    if internal:
        return False
    try:
        customer = await get_current_customer(request, db, settings)
        await access_ticket_for_customer(db=db, customer=customer, reference=ticket.reference)
        return True
    except (LoginRequired, NotFound):
        return False


@router.get("/attachments/{key}")
async def download(request: Request, key: str, db: DbSession, settings: Settings,
                   store: Store) -> Response:
    row = (await db.execute(
        select(Attachment, TicketMessage.direction == Direction.INTERNAL, Ticket)
        .join(TicketMessage, TicketMessage.id == Attachment.message_id)
        .join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Attachment.key == key)
    )).unique().first()
    if row is None or not await _allowed(request, db, settings, row[2], row[1]):
        raise NotFound()
    return attachment_download(store, row[0])


def attachment_download(store: FileStore, attachment: Attachment) -> Response:
    """The file as a download: never rendered inline, never sniffed."""
    ascii_name = attachment.filename.encode("ascii", "replace").decode().replace('"', "_")
    return Response(
        store.read(attachment.key),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                                   f"filename*=UTF-8''{quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
        },
    )
