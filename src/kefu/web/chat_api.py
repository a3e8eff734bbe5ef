"""The conversation API of the widget and the apps (docs/chat.md): HTTP for starting and
for every change of state; the WebSocket (`kefu.web.chat_socket`) for what happens live."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, EmailStr, Field
from sqlalchemy import select

from kefu.chat import service
from kefu.chat.conversation import Runtime, chat_of, customer_says, dispatch_team, feedback
from kefu.chat.frames import message_frame
from kefu.chat.handoff import hand_over
from kefu.chat.models import Chat, ChatSite, Outcome, Owner, ProblemType
from kefu.chat.queries import chat_view, messages_after
from kefu.chat.sites import SignedUid, site_by_key, verified_uid
from kefu.chat.transcript import send_transcript
from kefu.chat.visitors import open_visitor, visitor_for_token
from kefu.contacts.models import Customer
from kefu.core.errors import Forbidden, NotFound, Unauthorized
from kefu.core.i18n import normalise
from kefu.security.ratelimit import enforce
from kefu.tickets.files import Upload, check_upload
from kefu.tickets.models import Attachment, Direction, TicketMessage
from kefu.web.attachments import attachment_download
from kefu.web.deps import DbSession, Limiter, Settings, Store, client_ip

router = APIRouter(prefix="/chat/api/v1", tags=["chat"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VisitorIn(Strict):
    site: str = Field(min_length=1, max_length=64)
    visitor: str | None = Field(default=None, max_length=100)
    uid: str | None = Field(default=None, max_length=64)
    expires: int | None = None
    signature: str | None = Field(default=None, max_length=128)
    lang: str | None = Field(default=None, max_length=16)


class ChatIn(Strict):
    site: str = Field(min_length=1, max_length=64)
    problem_type: ProblemType
    lang: str | None = Field(default=None, max_length=16)


class MessageIn(Strict):
    client_id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000)


class FeedbackIn(Strict):
    helpful: bool


class LeaveMessageIn(Strict):
    email: EmailStr
    text: str = Field(min_length=1, max_length=4000)


class RatingIn(Strict):
    score: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class TranscriptIn(Strict):
    email: EmailStr


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.chat_runtime
    return rt


async def current_visitor(request: Request) -> Customer:
    """The visitor behind the bearer token, read in a session of its own: the handlers
    that run a conversation turn open theirs, and an embedded desk has one SQLite
    connection, which a request's session would hold."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("Your chat session has expired. Please reload the page.")
    async with request.app.state.session_factory() as db:
        customer = await visitor_for_token(db, token.strip())
    if customer is None:
        raise Unauthorized("Your chat session has expired. Please reload the page.")
    return customer


Visitor = Annotated[Customer, Depends(current_visitor)]
Rt = Annotated[Runtime, Depends(runtime)]


def _origin_allowed(request: Request, site: ChatSite) -> None:
    """A browser's page must be one of the site's; an app sends no Origin."""
    origin = request.headers.get("origin")
    if origin is not None and not site.allows_origin(origin):
        raise Forbidden("This site may not use this chat.")


@router.post("/visitors")
async def visitors(body: VisitorIn, request: Request, db: DbSession, settings: Settings,
                   limiter: Limiter) -> dict[str, Any]:
    site = await site_by_key(db, body.site)
    _origin_allowed(request, site)
    signed = (SignedUid(body.uid, body.expires or 0, body.signature or "")
              if body.uid else None)
    uid = verified_uid(site, signed)
    lang = normalise(body.lang)
    known = await visitor_for_token(db, body.visitor)
    if known is None or uid is not None:
        await enforce(limiter, f"chat-visitor:{client_ip(request)}",
                      limit=settings.chat_visitors_per_ip_hour, window_seconds=3600)
    visitor = await open_visitor(db, token=body.visitor, uid=uid, lang=lang)
    chat = await service.open_chat_of(db, visitor.customer)
    view = await chat_view(db, chat) if chat is not None else None
    await db.commit()
    return {"visitor": visitor.token, "uid": uid, "verified": uid is not None, "lang": lang,
            "site": {"name": site.name, "open": True, "verified_only": site.verified_only},
            "chat": view}


@router.post("/chats", status_code=201)
async def start(body: ChatIn, request: Request, db: DbSession, settings: Settings,
                limiter: Limiter, visitor: Visitor, rt: Rt) -> dict[str, Any]:
    site = await site_by_key(db, body.site)
    _origin_allowed(request, site)
    if await service.open_chat_of(db, visitor) is None:
        await enforce(limiter, f"chat-start:{client_ip(request)}",
                      limit=settings.chat_chats_per_ip_hour, window_seconds=3600)
    chat = await service.start_chat(db, rt.store, site=site, customer=visitor,
                                    problem_type=body.problem_type,
                                    lang=normalise(body.lang or visitor.lang),
                                    verified_uid=visitor.uid)
    await db.commit()
    return await chat_view(db, chat)


@router.get("/chats/{chat_id}/messages")
async def history(chat_id: int, db: DbSession, visitor: Visitor,
                  after: int = 0) -> dict[str, Any]:
    chat = await chat_of(db, chat_id, visitor.id)
    return {"messages": await messages_after(db, chat.ticket_id, max(0, after)),
            "chat": await chat_view(db, chat)}


async def _message_limit(limiter: Limiter, settings: Settings, visitor: Customer) -> None:
    await enforce(limiter, f"chat-message:{visitor.id}",
                  limit=settings.chat_messages_per_minute, window_seconds=60)


@router.post("/chats/{chat_id}/messages", status_code=201)
async def send(chat_id: int, body: MessageIn, settings: Settings,
               limiter: Limiter, visitor: Visitor, rt: Rt) -> Response:
    await _message_limit(limiter, settings, visitor)
    posted = await customer_says(rt, chat_id=chat_id, customer=visitor,
                                 client_id=body.client_id, text=body.text)
    return JSONResponse(message_frame(posted.message), status_code=201 if posted.new else 200)


@router.post("/chats/{chat_id}/attachments", status_code=201)
async def upload(chat_id: int, settings: Settings, limiter: Limiter,
                 visitor: Visitor, rt: Rt, file: Annotated[UploadFile, File()],
                 client_id: Annotated[str, Form(max_length=64)]) -> Response:
    """A screenshot or a PDF: checked by its content as ticket attachments are; a
    refused file stores nothing."""
    await _message_limit(limiter, settings, visitor)
    data = await file.read(settings.max_upload_bytes + 1)
    checked = check_upload(Upload(filename=file.filename or "upload", data=data),
                           max_bytes=settings.max_upload_bytes)
    posted = await customer_says(rt, chat_id=chat_id, customer=visitor, client_id=client_id,
                                 text=checked.filename, file=checked)
    return JSONResponse(message_frame(posted.message), status_code=201 if posted.new else 200)


@router.post("/chats/{chat_id}/feedback")
async def helpful(chat_id: int, body: FeedbackIn, db: DbSession, visitor: Visitor,
                  rt: Rt) -> dict[str, Any]:
    await feedback(rt, chat_id=chat_id, customer=visitor, helpful=body.helpful)
    return await _view(db, chat_id, visitor)


@router.post("/chats/{chat_id}/handoff")
async def handoff(chat_id: int, db: DbSession, visitor: Visitor, rt: Rt) -> dict[str, Any]:
    """The "talk to a person" button."""
    chat = await chat_of(db, chat_id, visitor.id)
    handed = chat.owner == Owner.BOT and await hand_over(db, chat, reason="button")
    await db.commit()
    if handed:
        await dispatch_team(rt, chat.team_id)
    return await _view(db, chat_id, visitor)


@router.post("/chats/{chat_id}/leave-message")
async def leave(chat_id: int, body: LeaveMessageIn, db: DbSession, settings: Settings,
                limiter: Limiter, visitor: Visitor, rt: Rt) -> dict[str, str]:
    await _message_limit(limiter, settings, visitor)
    chat = await chat_of(db, chat_id, visitor.id)
    reference = await service.leave_message(db, rt.store, chat=chat, customer=visitor,
                                            email=str(body.email), text=body.text)
    await db.commit()
    return {"reference": reference}


@router.post("/chats/{chat_id}/rating")
async def rating(chat_id: int, body: RatingIn, db: DbSession, visitor: Visitor
                 ) -> dict[str, Any]:
    chat = await chat_of(db, chat_id, visitor.id)
    await service.rate(db, chat, score=body.score, comment=body.comment)
    await db.commit()
    return await _view(db, chat_id, visitor)


@router.post("/chats/{chat_id}/transcript", status_code=202)
async def transcript(chat_id: int, body: TranscriptIn, db: DbSession, settings: Settings,
                     limiter: Limiter, visitor: Visitor) -> dict[str, str]:
    await enforce(limiter, f"chat-transcript:{chat_id}", limit=3, window_seconds=3600)
    chat = await chat_of(db, chat_id, visitor.id)
    await send_transcript(db, chat, to=str(body.email), customer=visitor,
                          base_url=settings.base_url)
    await db.commit()
    return {"status": "queued"}


@router.post("/chats/{chat_id}/end")
async def end(chat_id: int, db: DbSession, visitor: Visitor) -> dict[str, Any]:
    chat = await chat_of(db, chat_id, visitor.id)
    outcome = Outcome.RESOLVED if chat.owner == Owner.AGENT else Outcome.ABANDONED
    await service.end_chat(db, chat, outcome=outcome, by="customer")
    await db.commit()
    return await _view(db, chat_id, visitor)


@router.get("/attachments/{key}")
async def attachment(key: str, db: DbSession, store: Store, visitor: Visitor) -> Response:
    """A file in the visitor's own chat (theirs or the agent's), never an internal one."""
    found = (await db.execute(
        select(Attachment).join(TicketMessage, TicketMessage.id == Attachment.message_id)
        .join(Chat, Chat.ticket_id == Attachment.ticket_id)
        .where(Attachment.key == key[:64], Chat.visitor_id == visitor.id,
               TicketMessage.direction != Direction.INTERNAL))).scalar_one_or_none()
    if found is None:
        raise NotFound()
    return attachment_download(store, found)


async def _view(db: DbSession, chat_id: int, visitor: Customer) -> dict[str, Any]:
    db.expire_all()
    return await chat_view(db, await chat_of(db, chat_id, visitor.id))
