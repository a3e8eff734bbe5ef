"""Security pages: the admin's official-channel registry and the customer's self-service
account freeze. Also mounts the fake exchange (development and test only)."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.models import Agent
from kefu.contacts.models import Customer
from kefu.core.errors import InvalidInput, KefuError, NotFound
from kefu.core.i18n import translate
from kefu.integrations.exchange import jobs as _exchange_jobs  # noqa: F401  (job handler)
from kefu.integrations.exchange import service as freezes
from kefu.integrations.exchange.config import FAKE_MOUNT, exchange_config
from kefu.integrations.exchange.fake import DevFakeExchangeMount
from kefu.integrations.exchange.models import UidSource
from kefu.security import channels
from kefu.security.ratelimit import enforce
from kefu.security.verify import KIND_LABELS, ChannelKind
from kefu.tickets.access import access_ticket_for_customer
from kefu.web.deps import (
    AdminAgent,
    CurrentCustomer,
    DbSession,
    Lang,
    Limiter,
    Settings,
    client_ip,
    rollback,
)
from kefu.web.forms import read_form
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
# Serves 404 unless the app runs in development or test (checked per request).
router.mount(FAKE_MOUNT, DevFakeExchangeMount())
FREEZES_PER_HOUR = 5


async def _channels_context(db: AsyncSession, admin: Agent) -> dict[str, object]:
    return {"agent": admin, "channels": await channels.list_channels(db=db),
            "kinds": list(ChannelKind), "kind_labels": KIND_LABELS}


@router.get("/admin/channels")
async def channels_page(request: Request, db: DbSession, lang: Lang,
                        admin: AdminAgent) -> Response:
    return render(request, "security/channels.html", lang, await _channels_context(db, admin))


@router.post("/admin/channels")
async def add_channel(request: Request, db: DbSession, lang: Lang, admin: AdminAgent) -> Response:
    form = await read_form(request, "kind", "value", "note")
    try:
        await channels.add_channel(db=db, actor=admin, kind=form["kind"], value=form["value"],
                                   note=form["note"])
        await db.commit()
    except KefuError as exc:
        await rollback(db, admin)
        context = await _channels_context(db, admin)
        return render(request, "security/channels.html", lang,
                      {**context, "error": translate(lang, exc.message), "form": form},
                      status_code=exc.status_code)
    return RedirectResponse("/admin/channels", status_code=303)


@router.post("/admin/channels/{channel_id}/remove")
async def remove_channel(db: DbSession, admin: AdminAgent, channel_id: int) -> Response:
    await channels.remove_channel(db=db, actor=admin, channel_id=channel_id)
    await db.commit()
    return RedirectResponse("/admin/channels", status_code=303)


async def _ticket_ref(db: AsyncSession, customer: Customer, reference: str) -> str | None:
    """The ticket the customer came from, only if it is theirs (else ignored silently)."""
    if not reference:
        return None
    try:
        ticket = await access_ticket_for_customer(db=db, customer=customer,
                                                  reference=reference[:20])
    except NotFound:
        return None
    return ticket.reference


async def _freeze_context(db: AsyncSession, customer: Customer, settings: Settings,
                          ticket: str) -> dict[str, object]:
    history = await freezes.customer_freezes(db=db, customer=customer)
    return {"customer": customer, "freezes": history, "ticket": ticket[:20],
            "latest": history[0] if history else None,
            "available": exchange_config(settings) is not None}


@router.get("/portal/security/freeze")
async def freeze_page(request: Request, db: DbSession, lang: Lang, settings: Settings,
                      customer: CurrentCustomer, ticket: str = "") -> Response:
    context = await _freeze_context(db, customer, settings, ticket)
    return render(request, "security/freeze.html", lang,
                  {**context, "requested": request.query_params.get("requested") == "1"})


def _chosen_uid(customer: Customer, form: dict[str, str]) -> tuple[str, UidSource]:
    """Only the UID the exchange vouched for (signed sign-in) can be frozen here: a typed
    UID would let anyone freeze a stranger's account. Others go through the security team."""
    if not customer.uid:
        raise InvalidInput("We can only freeze the account the exchange signed you in with. "
                           "Open support from the exchange's app or website, or submit a "
                           "security request and our security team will freeze it.")
    if form["confirm"] != "1":
        raise InvalidInput("Please tick the box to confirm that you want to freeze the account.")
    return customer.uid, UidSource.ACCOUNT


@router.post("/portal/security/freeze")
async def request_freeze(request: Request, db: DbSession, lang: Lang, settings: Settings,
                         limiter: Limiter, customer: CurrentCustomer) -> Response:
    form = await read_form(request, "confirm", "ticket")
    try:
        await enforce(limiter, f"freeze:{customer.id}", limit=FREEZES_PER_HOUR,
                      window_seconds=3600)
        if exchange_config(settings) is None:
            raise InvalidInput("Self-service freeze is not available. Please submit a "
                               "security request and our team will freeze the account.")
        uid, source = _chosen_uid(customer, form)
        await freezes.request_account_freeze(
            db=db, customer=customer, uid=uid, uid_source=source, ip=client_ip(request),
            ticket_reference=await _ticket_ref(db, customer, form["ticket"]))
        await db.commit()
    except KefuError as exc:
        await rollback(db, customer)
        context = await _freeze_context(db, customer, settings, form["ticket"])
        return render(request, "security/freeze.html", lang,
                      {**context, "error": translate(lang, exc.message)},
                      status_code=exc.status_code)
    return RedirectResponse("/portal/security/freeze?requested=1", status_code=303)
