"""The customer portal: submit a request, my tickets, reply, rate, account settings."""

import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from kefu.channels.base import Identity
from kefu.channels.portal import Submission
from kefu.channels.registry import adapter_for
from kefu.contacts import service as contacts
from kefu.contacts.models import Contact
from kefu.core.errors import KefuError
from kefu.security.guard import warning_for
from kefu.tickets import queries
from kefu.tickets import service as tickets
from kefu.tickets.access import access_ticket_for_customer
from kefu.tickets.files import check_uploads
from kefu.tickets.models import Category, ChannelType, Status
from kefu.tickets.schemas import RatingCreate, TicketFields
from kefu.web.deps import (
    CurrentCustomer,
    DbSession,
    Lang,
    MaybeCustomer,
    Settings,
    Store,
    rollback,
)
from kefu.web.forms import read_form, read_uploads
from kefu.web.templating import render
from kefu.web.ticket_facts_pages import customer_facts_context

router = APIRouter(include_in_schema=False)
FORM_FIELDS = ("category", "subject", "description", "uid", "txid", "occurred_at", "platform",
               "platform_version", "desired_outcome")


@router.get("/")
async def home(request: Request, lang: Lang, customer: MaybeCustomer) -> Response:
    return render(request, "home.html", lang, {"customer": customer})


@router.get("/portal/tickets")
async def my_tickets(request: Request, db: DbSession, lang: Lang,
                     customer: CurrentCustomer) -> Response:
    rows = await queries.customer_tickets(db=db, customer=customer)
    return render(request, "portal/tickets.html", lang, {"customer": customer, "tickets": rows})


@router.get("/portal/tickets/new")
async def new_ticket_form(request: Request, lang: Lang, customer: CurrentCustomer) -> Response:
    # The form's own id: a double click or a resend after a lost answer opens one ticket.
    form = {"request_id": secrets.token_urlsafe(16)}
    return render(request, "portal/new_ticket.html", lang,
                  {"customer": customer, "categories": list(Category), "form": form})


def _parse_fields(form: dict[str, str]) -> TicketFields:
    data: dict[str, object] = {k: v for k, v in form.items() if v.strip()}
    if "occurred_at" in data:
        try:
            parsed = datetime.fromisoformat(str(data["occurred_at"]))
        except ValueError:
            parsed = None
        data["occurred_at"] = parsed.replace(tzinfo=parsed.tzinfo or UTC) if parsed else None
    return TicketFields.model_validate(data)


def _validation_message(exc: ValidationError) -> str:
    names = sorted({str(err["loc"][0]) for err in exc.errors() if err["loc"]})
    return "Please check these fields: " + ", ".join(names)


@router.post("/portal/tickets/new")
async def submit_ticket(request: Request, db: DbSession, settings: Settings, store: Store,
                        lang: Lang, customer: CurrentCustomer) -> Response:
    form = await read_form(request, *FORM_FIELDS, "request_id")
    context = {"customer": customer, "categories": list(Category), "form": form}
    try:
        fields = _parse_fields({k: v for k, v in form.items() if k != "request_id"})
        inbound = adapter_for(ChannelType.PORTAL).receive(Submission(
            sender=Identity("email", customer.email) if customer.email
            else Identity("uid", customer.uid or "", verified=True),
            body=fields.description, subject=fields.subject,
            external_id=form["request_id"] or None))
        # Scoped to the customer: nobody can land on another's ticket with their form id.
        key = f"{customer.id}:{inbound.external_id}" if inbound.external_id else None
        if key and (done := await tickets.ticket_for_external_id(
                db, channel=ChannelType.PORTAL, external_id=key)):
            return RedirectResponse(f"/portal/tickets/{done}?created=1", status_code=303)
        files = check_uploads(await read_uploads(request), max_bytes=settings.max_upload_bytes,
                              max_count=settings.max_attachments_per_message)
        reference, masked, _detail = await tickets.create_ticket(
            db=db, store=store, customer=Contact.of(customer), fields=fields, files=files,
            external_id=key, identity=(inbound.sender.kind, inbound.sender.value))
        await db.commit()
    except IntegrityError:
        # The same form sent twice at once: the other request opened the ticket.
        await rollback(db, customer)
        done = key and await tickets.ticket_for_external_id(
            db, channel=ChannelType.PORTAL, external_id=key)
        if not done:
            raise
        return RedirectResponse(f"/portal/tickets/{done}?created=1", status_code=303)
    except ValidationError as exc:
        await rollback(db, customer)
        return render(request, "portal/new_ticket.html", lang,
                      {**context, "error": _validation_message(exc)}, status_code=422)
    except KefuError as exc:
        await rollback(db, customer)
        return render(request, "portal/new_ticket.html", lang,
                      {**context, "error": exc.message}, status_code=exc.status_code)
    return RedirectResponse(f"/portal/tickets/{reference}?created=1{_masked(masked)}",
                            status_code=303)


def _masked(kinds: frozenset[str]) -> str:
    """Carry what the guard masked to the next page, which warns the customer about it."""
    return f"&masked={','.join(sorted(kinds))}" if kinds else ""


@router.get("/portal/tickets/{reference}")
async def ticket_page(request: Request, db: DbSession, lang: Lang, customer: CurrentCustomer,
                      reference: str) -> Response:
    ticket = await access_ticket_for_customer(db=db, customer=customer, reference=reference)
    detail = await queries.ticket_detail(db=db, ticket=ticket, include_internal=False)
    return render(request, "portal/ticket.html", lang, {
        "customer": customer, "ticket": detail,
        "can_rate": detail.status in (Status.RESOLVED, Status.CLOSED) and detail.rating is None,
        "created": request.query_params.get("created") == "1",
        "secret_warning": warning_for(request.query_params.get("masked", "").split(","), lang),
        **await customer_facts_context(db, ticket),
    })


@router.post("/portal/tickets/{reference}/reply")
async def reply(request: Request, db: DbSession, settings: Settings, store: Store, lang: Lang,
                customer: CurrentCustomer, reference: str) -> Response:
    ticket = await access_ticket_for_customer(db=db, customer=customer, reference=reference)
    form = await read_form(request, "body")
    try:
        if not form["body"].strip():
            raise KefuError("Please write a message.")
        files = check_uploads(await read_uploads(request), max_bytes=settings.max_upload_bytes,
                              max_count=settings.max_attachments_per_message)
        masked = await tickets.add_customer_reply(db=db, store=store, ticket=ticket,
                                                  customer=customer, body=form["body"],
                                                  files=files)
        await db.commit()
    except KefuError as exc:
        await rollback(db, customer)
        return render(request, "error.html", lang, {"message": exc.message},
                      status_code=exc.status_code)
    return RedirectResponse(f"/portal/tickets/{reference}?{_masked(masked)}", status_code=303)


@router.post("/portal/tickets/{reference}/rate")
async def rate(request: Request, db: DbSession, lang: Lang, customer: CurrentCustomer,
               reference: str) -> Response:
    ticket = await access_ticket_for_customer(db=db, customer=customer, reference=reference)
    form = await read_form(request, "score", "comment")
    try:
        rating = RatingCreate(score=int(form["score"] or 0), comment=form["comment"])
    except (ValueError, ValidationError):
        return render(request, "error.html", lang, {"message": "Choose a score from 1 to 5."},
                      status_code=422)
    await tickets.rate_ticket(db=db, ticket=ticket, customer=customer, score=rating.score,
                              comment=rating.comment)
    await db.commit()
    return RedirectResponse(f"/portal/tickets/{reference}", status_code=303)


@router.get("/portal/account")
async def account_page(request: Request, lang: Lang, customer: CurrentCustomer) -> Response:
    return render(request, "portal/account.html", lang, {"customer": customer})


@router.post("/portal/account/anti-phishing")
async def set_anti_phishing(request: Request, db: DbSession, lang: Lang,
                            customer: CurrentCustomer) -> Response:
    form = await read_form(request, "code")
    try:
        await contacts.set_anti_phishing_code(db=db, customer=customer, code=form["code"])
        await db.commit()
    except KefuError as exc:
        await rollback(db, customer)
        return render(request, "portal/account.html", lang,
                      {"customer": customer, "error": exc.message}, status_code=exc.status_code)
    return RedirectResponse("/portal/account?saved=1", status_code=303)
