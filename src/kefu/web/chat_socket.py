"""The live half of chat: one WebSocket per widget (customer) and per console (agent).

A connection subscribes to its keys on the chat bus before it reads what it missed
from the database, so nothing falls between the two; after that it forwards events as
frames. Numbered messages are sent in order and at most once per connection: an event
for a number already sent is skipped, and one that skips ahead (an event lost to a full
queue or a Redis hiccup) makes the connection read the gap from the database.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import sessions
from kefu.accounts.models import Agent
from kefu.chat import frames
from kefu.chat.agents import agent_message
from kefu.chat.conversation import Runtime, chat_of, customer_says
from kefu.chat.models import Chat, ChatSite
from kefu.chat.queries import chat_view, messages_after
from kefu.chat.visitors import visitor_for_token
from kefu.contacts.models import Customer
from kefu.core import bus as buses
from kefu.core import events
from kefu.core.errors import KefuError, NotFound
from kefu.core.i18n import translate
from kefu.core.settings import Settings
from kefu.security.ratelimit import RateLimiter
from kefu.web.deps import cookie_name
from kefu.web.live import allowed_origins, origin_of

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

MAX_FRAME = 16 * 1024
MAX_ERRORS = 20  # bad frames before the socket is closed as abuse
TYPING_EVERY = 2.0  # seconds between typing notices a connection passes on
POLICY_VIOLATION = 1008
IDLE_WAIT = 25.0
CLOSED = "chat.socket_closed"  # put on a connection's own queue when its client went


class Frames:
    """What a customer connection sent, for order and deduplication."""

    def __init__(self, ws: WebSocket, after: int) -> None:
        self.ws = ws
        self.sent_seq = after
        self.view: dict[str, Any] = {}

    async def message(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        if seq is None or seq <= self.sent_seq:
            return
        self.sent_seq = seq
        await self.ws.send_json({"type": "message", "message": message})

    async def chat(self, view: dict[str, Any]) -> None:
        self.view = {**self.view, **view}
        await self.ws.send_json({"type": "chat", "chat": self.view})


async def _refuse(ws: WebSocket, message: str, code: int = POLICY_VIOLATION) -> None:
    await ws.accept()
    await ws.send_json({"type": "error", "code": "refused", "message": message})
    await ws.close(code=code)


@router.websocket("/chat/ws")
async def customer_socket(ws: WebSocket) -> None:
    app = ws.app
    rt: Runtime = app.state.chat_runtime
    bus: buses.LocalBus = app.state.chat_bus
    params = ws.query_params
    lang = params.get("lang") or "en"
    try:
        chat_id = int(params.get("chat", ""))
        after = max(0, int(params.get("after") or 0))
    except ValueError:
        await _refuse(ws, translate(lang, "Invalid request."))
        return
    async with rt.factory() as db:
        visitor = await visitor_for_token(db, params.get("token"))
        chat = None
        if visitor is not None:
            with contextlib.suppress(NotFound):
                chat = await chat_of(db, chat_id, visitor.id)
        if visitor is None or chat is None:
            await _refuse(ws, translate(lang, "Your chat session has expired. Please reload "
                                        "the page."))
            return
        site = await db.get(ChatSite, chat.site_id)
        if site is not None and not site.allows_origin(ws.headers.get("origin")):
            await _refuse(ws, translate(lang, "This site may not use this chat."))
            return
        lang = chat.lang
        await ws.accept()
        subscription = await bus.subscribe([frames.chat_key(chat_id)])
        out = Frames(ws, after)
        try:
            await _replay(db, out, chat)
        except BaseException:
            bus.unsubscribe(subscription)
            raise
    try:
        await _serve_customer(ws, rt, bus, subscription, out, visitor, chat_id, lang)
    finally:
        bus.unsubscribe(subscription)


async def _replay(db: AsyncSession, out: Frames, chat: Chat) -> None:
    for message in await messages_after(db, chat.ticket_id, out.sent_seq):
        await out.message(message)
    await out.chat(await chat_view(db, chat))


async def _serve_customer(ws: WebSocket, rt: Runtime, bus: buses.LocalBus,
                          subscription: buses.Subscription, out: Frames, visitor: Customer,
                          chat_id: int, lang: str) -> None:
    current = [subscription]  # replaced when it falls behind; the last one is let go
    reader = asyncio.create_task(_read_customer(ws, rt, visitor, chat_id, lang))
    # The reader ends when the client goes: wake the loop at once instead of after its
    # idle wait, so a closed socket's subscription is let go now.
    reader.add_done_callback(lambda _: _wake(current[0]))
    try:
        while not reader.done():
            item = await current[0].next(IDLE_WAIT)
            if reader.done():
                break
            if current[0].dropped:  # fell behind: catch up from the database, go on
                bus.unsubscribe(current[0])
                current[0] = await bus.subscribe([frames.chat_key(chat_id)])
                await _catch_up(rt, out, chat_id)
                continue
            if item is not None:
                await _forward_to_customer(rt, out, item, chat_id)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        bus.unsubscribe(current[0])
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader


def _wake(subscription: buses.Subscription) -> None:
    with contextlib.suppress(asyncio.QueueFull):
        subscription.queue.put_nowait(events.Event(CLOSED))


async def _catch_up(rt: Runtime, out: Frames, chat_id: int) -> None:
    async with rt.factory() as db:
        chat = await db.get(Chat, chat_id)
        if chat is not None:
            await _replay(db, out, chat)


async def _forward_to_customer(rt: Runtime, out: Frames, item: events.Event,
                               chat_id: int) -> None:
    data = item.data
    if item.name == frames.CHAT_MESSAGE:
        message = data["message"]
        if message.get("internal"):
            return  # never addressed here; kept as a second lock on the door
        if message["seq"] > out.sent_seq + 1:
            await _catch_up(rt, out, chat_id)
        else:
            await out.message(message)
    elif item.name == frames.CHAT_STATE and "state" in data:
        await out.chat(data["state"])
    elif item.name == frames.CHAT_QUEUE:
        spot = data.get("spots", {}).get(str(chat_id))
        if spot is not None:
            await out.chat({"position": spot[0], "wait_seconds": spot[1]})
    elif item.name == frames.CHAT_TYPING and data.get("author") == "agent":
        await out.ws.send_json({"type": "typing", "author": "agent"})


async def _read_customer(ws: WebSocket, rt: Runtime, visitor: Customer, chat_id: int,
                         lang: str) -> None:
    settings: Settings = ws.app.state.settings
    limiter: RateLimiter = ws.app.state.rate_limiter
    errors = 0
    last_typing = 0.0
    while True:
        raw = await ws.receive_text()
        problem = None
        try:
            frame = _parse(raw)
            kind = frame.get("type")
            if kind == "message":
                if not await limiter.hit(f"chat-message:{visitor.id}",
                                         limit=settings.chat_messages_per_minute,
                                         window_seconds=60):
                    raise KefuError("You are sending messages too fast. Please wait a moment.")
                await _finished(customer_says(rt, chat_id=chat_id, customer=visitor,
                                              client_id=str(frame.get("client_id", "")),
                                              text=str(frame.get("text", ""))))
            elif kind == "typing":
                if time.monotonic() - last_typing > TYPING_EVERY:
                    last_typing = time.monotonic()
                    await _typing_to_agent(rt, chat_id)
            elif kind == "ping":
                await ws.send_json({"type": "pong"})
            else:
                raise KefuError("Unknown frame type.")
        except KefuError as exc:
            problem = exc.message
        if problem is not None:
            errors += 1
            await ws.send_json({"type": "error", "code": "bad_frame",
                                "message": translate(lang, problem)})
            if errors >= MAX_ERRORS:
                await ws.close(code=POLICY_VIOLATION)
                return


_inflight: set[asyncio.Task[Any]] = set()


async def _finished(turn: Coroutine[Any, Any, Any]) -> Any:
    """Run a conversation turn to its end even if the socket that asked goes meanwhile:
    the customer's question is stored, so the bot's answer must follow (a reconnect
    replays the question, and the widget does not ask again)."""
    task = asyncio.ensure_future(turn)
    _inflight.add(task)  # held, so the loop does not collect a task nobody awaits
    task.add_done_callback(_settled)
    return await asyncio.shield(task)


def _settled(task: asyncio.Task[Any]) -> None:
    _inflight.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("chat: a turn failed after its socket closed: %s", task.exception())


def _parse(raw: str) -> dict[str, Any]:
    if len(raw) > MAX_FRAME:
        raise KefuError("That message is too large.")
    try:
        frame = json.loads(raw)
    except ValueError as exc:
        raise KefuError("Invalid frame: not JSON.") from exc
    if not isinstance(frame, dict):
        raise KefuError("Invalid frame: not an object.")
    return frame


async def _typing_to_agent(rt: Runtime, chat_id: int) -> None:
    async with rt.factory() as db:
        chat = await db.get(Chat, chat_id)
    if chat is not None and chat.agent_id is not None:
        events.publish(events.Event(frames.CHAT_TYPING, {
            "keys": [frames.agent_key(chat.agent_id)], "chat": chat_id, "author": "customer"}))


# The agent's console ------------------------------------------------------------------


@router.websocket("/console/chats/ws")
async def agent_socket(ws: WebSocket) -> None:
    app = ws.app
    settings: Settings = app.state.settings
    rt: Runtime = app.state.chat_runtime
    bus: buses.LocalBus = app.state.chat_bus
    origin = ws.headers.get("origin")
    if origin is not None and origin_of(origin) not in allowed_origins(settings):
        await _refuse(ws, "This origin may not open the console.")
        return
    token = ws.cookies.get(cookie_name(settings, "kefu_agent"))
    async with rt.factory() as db:
        agent = await sessions.resolve_agent(db=db, token=token) if token else None
    if agent is None:
        await _refuse(ws, "Sign in to the console first.")
        return
    await ws.accept()
    keys = [frames.agent_key(agent.id), frames.team_key(agent.team_id)]
    subscription = await bus.subscribe(keys)
    reader = asyncio.create_task(_read_agent(ws, rt, agent))
    reader.add_done_callback(lambda _: _wake(subscription))
    try:
        while not reader.done():
            item = await subscription.next(IDLE_WAIT)
            if reader.done():
                break
            if subscription.dropped:
                await ws.send_json({"type": "reload"})  # the console re-reads its lists
                bus.unsubscribe(subscription)
                subscription = await bus.subscribe(keys)
                continue
            if item is not None:
                body = {k: v for k, v in item.data.items() if k != "keys"}
                await ws.send_json({"type": item.name, **body})
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        bus.unsubscribe(subscription)
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader


async def _read_agent(ws: WebSocket, rt: Runtime, agent: Agent) -> None:
    errors = 0
    while True:
        raw = await ws.receive_text()
        try:
            frame = _parse(raw)
            kind = frame.get("type")
            chat_id = int(frame.get("chat", 0))
            if kind == "message":
                async with rt.factory() as db:
                    chat = await db.get(Chat, chat_id)
                    if chat is None:
                        raise NotFound("No such chat.")
                    await agent_message(db, chat, agent, text=str(frame.get("text", "")),
                                        client_id=frame.get("client_id"),
                                        internal=bool(frame.get("internal")))
                    await db.commit()
            elif kind == "typing":
                events.publish(events.Event(frames.CHAT_TYPING, {
                    "keys": [frames.chat_key(chat_id)], "chat": chat_id, "author": "agent"}))
            elif kind == "ping":
                await ws.send_json({"type": "pong"})
            else:
                raise KefuError("Unknown frame type.")
        except (KefuError, ValueError, TypeError) as exc:
            errors += 1
            message = exc.message if isinstance(exc, KefuError) else "Invalid frame."
            await ws.send_json({"type": "error", "code": "bad_frame", "message": message})
            if errors >= MAX_ERRORS:
                await ws.close(code=POLICY_VIOLATION)
                return
