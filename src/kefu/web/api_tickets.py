"""REST API for integrators (/api/v1/tickets), authenticated by scoped API tokens.

A token acts as the agent who created it: it sees what that agent sees.
"""

import asyncpg
from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from kefu.accounts import service as accounts
from kefu.contacts import service as contacts
from kefu.core.driver import Database, direct
from kefu.core.errors import NotFound
from kefu.security.content import SecretRequestBlocked
from kefu.tickets import queries
from kefu.tickets import service as tickets
from kefu.tickets.access import access_ticket_by_key, access_ticket_for_agent
from kefu.tickets.files import FileStore
from kefu.tickets.intake import caller_and_contact
from kefu.tickets.schemas import (
    ApiTicketCreate,
    MessageCreate,
    MessageRead,
    TicketDetail,
    TicketPage,
    TicketUpdate,
)
from kefu.tickets.service import Author
from kefu.tickets.workflow import apply_update
from kefu.web.blocked import record_blocked
from kefu.web.deps import ApiReader, ApiWriter, BearerSecret, DbSession, Store

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TicketDetail)
async def create_ticket(body: ApiTicketCreate, request: Request, secret: BearerSecret,
                        store: Store) -> Response:
    """The desk's busiest write: on PostgreSQL its two statements (who calls and for
    whom; everything written) run directly on the driver, the second committing by
    itself (`kefu.core.driver`); elsewhere they run in a session."""
    engine: AsyncEngine = request.app.state.engine
    try:
        if engine.dialect.name == "postgresql":
            async with direct(engine) as db:
                created = await _create(db, store, secret, body)
        else:
            async with request.app.state.session_factory() as session:
                created = await _create(session, store, secret, body)
                await session.commit()
    except AlreadyCreated:
        # A retry of a create that already went through: the ticket it opened, with 200.
        return await _existing(request, secret, body)
    except (IntegrityError, asyncpg.UniqueViolationError) as clash:
        # Two sends of one request at once: the one that lost finds the winner's ticket.
        if body.external_id is None:
            raise
        try:
            return await _existing(request, secret, body)
        except NotFound:
            raise clash from None  # some other clash: not a retry of this request
    # Already a validated TicketDetail: dumped once here instead of validated again.
    return Response(created.detail.model_dump_json(), status_code=status.HTTP_201_CREATED,
                    media_type="application/json")


class AlreadyCreated(Exception):
    """The request's external id already opened a ticket."""


def _caller_key(agent_id: int, external_id: str) -> str:
    """An integrator's ids are its own: keyed by the token's agent, one integrator can
    neither collide with another's ids nor read a ticket by guessing one."""
    return f"{agent_id}:{external_id}"


async def _existing(request: Request, secret: str, body: ApiTicketCreate) -> Response:
    """The ticket this caller's request id opened, as the first create answered it."""
    async with request.app.state.session_factory() as db:
        agent = await accounts.authenticate_api_token(db=db, secret=secret,
                                                      scope="tickets:write")
        ticket = await access_ticket_by_key(
            db=db, channel=body.channel, key=_caller_key(agent.id, body.external_id or ""))
        detail = await queries.ticket_detail(db=db, ticket=ticket, include_internal=True)
    return Response(detail.model_dump_json(), status_code=status.HTTP_200_OK,
                    media_type="application/json")


async def _create(db: Database, store: FileStore, secret: str,
                  body: ApiTicketCreate) -> tickets.CreatedTicket:
    caller, customer = await caller_and_contact(
        db=db, secret=secret, scope="tickets:write", email=body.contact_email,
        uid=body.contact_uid)
    key = None if body.external_id is None else _caller_key(caller.agent_id, body.external_id)
    if key is not None and await tickets.ticket_for_external_id(
            db, channel=body.channel, external_id=key):
        raise AlreadyCreated()
    identity = (("email", body.contact_email) if body.contact_email
                else ("uid", body.contact_uid or ""))
    for _attempt in range(2):
        try:
            # The body is a validated TicketFields already (ApiTicketCreate extends it).
            return await tickets.create_ticket(
                db=db, store=store, customer=customer, fields=body, files=[],
                channel=body.channel, priority=body.priority, external_id=key,
                identity=identity, actor=Author("agent", caller.agent_id, caller.name))
        except contacts.ContactTaken:
            # A concurrent request wrote this customer first: now they are found.
            customer = await contacts.contact_for_api(db=db, email=body.contact_email,
                                                      uid=body.contact_uid)
    raise contacts.ContactTaken()


@router.get("", response_model=TicketPage)
async def list_tickets(db: DbSession, agent: ApiReader, view: queries.View = queries.View.ALL,
                       q: str = "", page: int = 1, per_page: int = 25) -> TicketPage:
    return await queries.agent_inbox(db=db, agent=agent, view=view, search=q, page=page,
                                     per_page=per_page)


@router.get("/{reference}", response_model=TicketDetail)
async def read_ticket(reference: str, db: DbSession, agent: ApiReader) -> TicketDetail:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    return await queries.ticket_detail(db=db, ticket=ticket, include_internal=True)


@router.patch("/{reference}", response_model=TicketDetail)
async def update_ticket(reference: str, body: TicketUpdate, db: DbSession,
                        agent: ApiWriter) -> TicketDetail:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    await apply_update(db=db, ticket=ticket, agent=agent, update=body)
    await db.commit()
    return await queries.ticket_detail(db=db, ticket=ticket, include_internal=True)


@router.post("/{reference}/messages", status_code=status.HTTP_201_CREATED,
             response_model=MessageRead)
async def post_message(reference: str, body: MessageCreate, db: DbSession, store: Store,
                       agent: ApiWriter) -> MessageRead | JSONResponse:
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    try:
        await tickets.add_agent_message(db=db, store=store, ticket=ticket, agent=agent,
                                        body=body.body, internal=body.internal, files=[])
        await db.commit()
    except SecretRequestBlocked as exc:
        await record_blocked(db, exc, agent_id=agent.id, reference=reference)
        return JSONResponse({"detail": exc.message, "asked_for": exc.kind}, status_code=422)
    messages = await queries.messages_of(db=db, ticket=ticket, include_internal=True)
    return messages[-1]
