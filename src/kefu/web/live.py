"""The live console: desk events as Server-Sent Events, and the fragments they update.

`GET /console/events` streams ticket events (`kefu.tickets.feed`) to a signed-in agent.
Everything is checked before the stream opens: an agent session (401 otherwise, also
for a customer's), an allowed Origin (403), and the scope asked for: `team=<slug>`
(the agent's own team; any team for supervisors and admins) or `team=all`
(supervisors and admins), 403 otherwise. Without `team`, an agent gets what their
inbox shows (their team, and tickets assigned to them), a supervisor everything.

A browser's EventSource reconnects by itself and sends the last id it saw
(`Last-Event-ID`); a page that has just loaded passes the feed id it was rendered at
(`since`). The server replays from the database what came after, plus a short overlap
(ids can commit out of order, see `feed.REPLAY_OVERLAP`), then streams live events;
the browser skips ids it has seen. The handler holds no database connection while
it streams; every few seconds it checks that the session still holds (a sign-out, a
deactivation or a change of team ends the stream).

The page scripts (static/console-live.js) turn an event into a fetch of the fragment
below, rendered by the same template as the full page.
"""

import asyncio
import collections
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kefu.accounts import sessions
from kefu.accounts.models import Agent, Team
from kefu.core import bus as buses
from kefu.core import events
from kefu.core.settings import Settings
from kefu.tickets import feed, queries
from kefu.tickets.access import access_ticket_for_agent
from kefu.web.deps import CurrentAgent, DbSession, Lang, cookie_name
from kefu.web.forms import read_form
from kefu.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0  # a comment line: finds dead connections, keeps proxies open
# A stream ends after this long and the browser reconnects (with its last id): a
# server that is stopping waits for open responses, so none may last for ever.
STREAM_SECONDS = 300.0
RETRY_MS = 1000
# A stream checks again that its session still holds (not signed out, not deactivated,
# same role and team) before sending, at most this often; one short query each time.
RECHECK_SECONDS = 5.0
MAX_EVENT_ID = 2**53  # what JavaScript counts exactly; anything longer is not ours


PRUNE_EVERY_SECONDS = 3600.0


async def keep_feed_short(factory: async_sessionmaker[AsyncSession]) -> None:
    """Run by each web process for its life: the feed's old rows go, hourly."""
    while True:
        try:
            async with factory() as db:
                await feed.prune(db)
                await db.commit()
        except SQLAlchemyError as exc:  # a database restart: try again next time
            log.warning("live: could not prune the desk feed: %s", exc)
        await asyncio.sleep(PRUNE_EVERY_SECONDS)


def make_bus(settings: Settings) -> buses.LocalBus:
    return buses.make_bus(feed.FEED_EVENTS | {feed.TICKET_PRESENCE}, redis_url=settings.redis_url,
                          database_url=settings.database_url)


@dataclass(frozen=True)
class Scope:
    """Which events one connection gets."""

    agent_id: int
    team_id: int | None  # only this team's; None: see `everything`
    everything: bool  # supervisors and admins asking for all teams

    def admits(self, item: events.Event) -> bool:
        data = item.data
        teams = (data.get("team_id"), data.get("was_team_id"))
        if self.team_id is not None and self.team_id in teams:
            return True
        if self.everything:
            return True
        # As the inbox shows it: the team's tickets and those assigned to the agent.
        return self.agent_id in (data.get("assignee_id"), data.get("was_assignee_id"))


def _refuse(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=status)


def allowed_origins(settings: Settings) -> frozenset[str]:
    listed = settings.live_allowed_origins.split() or [settings.base_url]
    return frozenset(origin_of(url) for url in listed)


def origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def _last_event_id(request: Request) -> int | Response | None:
    """The id to resume after: the browser's Last-Event-ID, else the page's `since`."""
    raw = request.headers.get("last-event-id") or request.query_params.get("since")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_EVENT_ID:
        return _refuse(400, "Last-Event-ID must be an event id.")
    return int(raw)


async def _agent(request: Request, db: AsyncSession, settings: Settings) -> Agent | None:
    token = request.cookies.get(cookie_name(settings, "kefu_agent"))
    if not token or len(token) > 512:
        return None
    return await sessions.resolve_agent(db=db, token=token)


async def _scope(db: AsyncSession, agent: Agent, asked: str | None) -> Scope | Response:
    if asked is None:
        return Scope(agent.id, agent.team_id, everything=agent.sees_all_teams)
    if asked == "all":
        if not agent.sees_all_teams:
            return _refuse(403, "Only supervisors and admins may follow every team.")
        return Scope(agent.id, None, everything=True)
    team = (await db.execute(select(Team).where(Team.slug == asked[:64]))).scalar_one_or_none()
    if team is None or (team.id != agent.team_id and not agent.sees_all_teams):
        # An unknown team and another team look the same: no probing for slugs.
        return _refuse(403, "You may follow only your own team.")
    return Scope(agent.id, team.id, everything=False)


@router.get("/console/events")
async def stream(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    origin = request.headers.get("origin")
    # Browsers send Origin on cross-origin requests; a same-origin EventSource may omit
    # it, and the agent cookie (SameSite=Lax) is not sent cross-site anyway.
    if origin is not None and origin_of(origin) not in allowed_origins(settings):
        return _refuse(403, "This origin may not follow the desk.")
    last_id = _last_event_id(request)
    if isinstance(last_id, Response):
        return last_id
    bus: buses.LocalBus = request.app.state.bus
    async with request.app.state.session_factory() as db:
        agent = await _agent(request, db, settings)
        if agent is None:
            return _refuse(401, "Sign in to the console first.")
        scope = await _scope(db, agent, request.query_params.get("team"))
        if isinstance(scope, Response):
            return scope
        agent_state = (agent.id, agent.role, agent.team_id)
        # Subscribed before reading the feed, so nothing falls between the two.
        subscription = await bus.subscribe()
        try:
            missed = await feed.since(db, last_id) if last_id is not None else []
        except BaseException:
            bus.unsubscribe(subscription)
            raise

    async def still_allowed() -> bool:
        async with request.app.state.session_factory() as db:
            now = await _agent(request, db, settings)
            return now is not None and (now.id, now.role, now.team_id) == agent_state

    return StreamingResponse(
        _events(bus, subscription, scope, missed, still_allowed),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"})


def _frame(item: events.Event) -> str:
    body = {"name": item.name, **item.data}
    # An event with no feed row (presence) has no id: the browser's Last-Event-ID stays
    # the last recorded one, which is what a reconnect must resume after.
    head = "" if item.id is None else f"id: {item.id}\n"
    return f"{head}event: desk\ndata: {json.dumps(body, default=str)}\n\n"


PRESENCE_STATES = frozenset({"viewing", "typing", "left"})


@router.post("/console/tickets/{reference}/presence", status_code=204)
async def presence(request: Request, db: DbSession, agent: CurrentAgent,
                   reference: str) -> Response:
    """This agent has the ticket open, is typing in it, or left it: the other agents with
    it open are told (the collision notice). Nothing is stored."""
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    state = (await read_form(request, "state"))["state"]
    if state not in PRESENCE_STATES:
        return _refuse(422, "state must be viewing, typing or left.")
    events.publish(events.Event(feed.TICKET_PRESENCE, {
        "reference": ticket.reference, "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id, "agent_id": agent.id, "agent_name": agent.name,
        "state": state}))
    return Response(status_code=204)


class _Sent:
    """Ids already sent on this connection (a replayed one may also arrive live)."""

    def __init__(self, size: int = 4096) -> None:
        self._order: collections.deque[int] = collections.deque()
        self._ids: set[int] = set()
        self._size = size

    def first_time(self, event_id: int | None) -> bool:
        if event_id is None:
            return True
        if event_id in self._ids:
            return False
        self._ids.add(event_id)
        self._order.append(event_id)
        if len(self._order) > self._size:
            self._ids.discard(self._order.popleft())
        return True


async def _events(bus: buses.LocalBus, subscription: buses.Subscription, scope: Scope,
                  missed: Sequence[events.Event] | None,
                  still_allowed: Callable[[], Awaitable[bool]]) -> AsyncIterator[str]:
    sent = _Sent()
    checked = time.monotonic()
    try:
        yield f"retry: {RETRY_MS}\n\n"
        if missed is None:  # too much to replay: the page reloads instead
            yield "event: reset\ndata: {}\n\n"
            return
        for old in missed:
            if scope.admits(old) and sent.first_time(old.id):
                yield _frame(old)
        ends = time.monotonic() + STREAM_SECONDS
        while (left := ends - time.monotonic()) > 0:
            item = await subscription.next(min(HEARTBEAT_SECONDS, left))
            if subscription.dropped:
                return  # fell behind: the browser reconnects and reads the feed
            if time.monotonic() - checked >= RECHECK_SECONDS:
                # Signed out, deactivated or moved: the stream ends, and the browser's
                # reconnect is refused or gets the new scope.
                if not await still_allowed():
                    return
                checked = time.monotonic()
            if item is None:
                yield ": ping\n\n"
            elif scope.admits(item) and sent.first_time(item.id):
                yield _frame(item)
    except asyncio.CancelledError:
        raise  # the client went away
    finally:
        bus.unsubscribe(subscription)


@router.get("/console/live/rows/{reference}")
async def inbox_row(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                    reference: str, view: str = "all_open") -> Response:
    """One inbox row as the inbox renders it; 204 when the ticket is not (or no longer)
    in that view for this agent, so the page removes it."""
    try:
        chosen = queries.View(view)
    except ValueError:
        chosen = queries.View.ALL_OPEN
    reference = reference[:20].upper()
    page = await queries.agent_inbox(db=db, agent=agent, view=chosen, search=reference)
    rows = [t for t in page.items if t.reference == reference]
    if not rows:
        return Response(status_code=204)
    return render(request, "console/_inbox_row.html", lang, {"t": rows[0]})


@router.get("/console/live/tickets/{reference}/messages")
async def new_messages(request: Request, db: DbSession, lang: Lang, agent: CurrentAgent,
                       reference: str, after: int = 0) -> Response:
    """The thread's messages after the first `after`, as the ticket page renders them."""
    if after < 0:
        after = 0
    ticket = await access_ticket_for_agent(db=db, agent=agent, reference=reference)
    detail = await queries.ticket_detail(db=db, ticket=ticket, include_internal=True)
    return render(request, "console/_messages.html", lang,
                  {"messages": detail.messages[after:]})
