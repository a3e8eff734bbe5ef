"""The load of `kefu bench chat`: every customer and agent, on one event loop.

The phases (`ChatLoad.run`): ramp the widget connections up, staff the relay chats with
agents, drive the bot and the relay open loop while some customers drop, drain, then
ping every customer socket. What the frames mean for lost and duplicated is
`kefu.bench.chat_tally`'s business.
"""

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from rich.console import Console
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

from kefu.bench.chat_tally import Agent, Customer, RelayLedger, Tally
from kefu.bench.server import BenchSetupError

console = Console(stderr=True)
SITE = "demo"
RELAY_TYPE = "api"  # its team's agents take the relay chats; bot chats route elsewhere
BOT_TYPES = ("deposit_withdrawal", "account", "trading", "other", "kyc")
CHATS_PER_AGENT = 20  # kefu.chat.routing.MAX_CAPACITY
RAMP_CONCURRENCY = 32  # HTTP set-ups in flight while ramping
TICK = 0.005  # the driver's clock, seconds
PING_TIMEOUT = 30.0
DRAIN_STALL = 15.0  # seconds without progress that end the drain
RECONNECT_DELAY = (0.1, 1.0)  # seconds a dropped client stays away
AGENT_REPLY = "Thanks, I am checking your account now."


@dataclass(frozen=True)
class ChatBenchConfig:
    connections: int = 1000
    seconds: float = 30.0
    bot_rate: float = 100.0
    relay_rate: float = 500.0
    relay_chats: int = 200
    drop_share: float = 0.05
    agent_reply_share: float = 0.1
    ramp_rate: float = 500.0
    drain_seconds: float = 300.0
    deflate: bool = True  # browsers offer permessage-deflate
    seed: int = 7


@dataclass(frozen=True)
class Target:
    url: str
    server_pid: int | None = None
    agents: tuple[tuple[str, str], ...] = ()  # (email, password) of the relay team
    # Set when this run made the desk: agents' presence and accept go through the
    # service where the console's HTTP routes are missing (404).
    database_url: str = ""


@dataclass(frozen=True)
class Phases:
    """How long each phase took, and what the final ping found."""

    ramp_s: float
    drive_s: float
    drain_s: float
    held: int  # customer sockets that answered the final ping
    drive_frames: tuple[int, int]  # message and chat frames received while driving


class ChatLoad:
    """One run against one server. `on_drive` is called around the drive phase (a
    benchmark reads CPU counters there)."""

    def __init__(self, target: Target, config: ChatBenchConfig, questions: list[str],
                 on_drive: Callable[[bool], None] | None = None) -> None:
        self.target, self.config, self.questions = target, config, questions
        self.base = target.url.rstrip("/")
        parts = urlsplit(self.base)
        self.ws_base = ("wss://" if parts.scheme == "https" else "ws://") + parts.netloc
        self.rng = random.Random(config.seed)  # noqa: S311 (a benchmark's schedule)
        self.tally = Tally()
        self.relay = RelayLedger()
        self.customers: list[Customer] = []
        self.agents: list[Agent] = []
        self.agent_setup = "http"
        self.on_drive = on_drive
        self._ids = 0
        self._tasks: set[asyncio.Task[Any]] = set()  # sends, drops, reconnects
        self._readers: set[asyncio.Task[Any]] = set()  # one per open socket

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def _spawn(self, work: Awaitable[Any], *, reader: bool = False) -> None:
        task = asyncio.ensure_future(work)
        tasks = self._readers if reader else self._tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _open_socket(self, path: str, **options: Any) -> ClientConnection:
        # No client pings: the server pings (uvicorn, every 20 s) and this side answers.
        return await connect(self.ws_base + path, origin=Origin(self.base),
                             ping_interval=None, open_timeout=60, close_timeout=1,
                             compression="deflate" if self.config.deflate else None,
                             **options)

    # --- customers

    async def open_customer(self, http: httpx.AsyncClient, idx: int, relay: bool) -> None:
        answer = await http.post("/chat/api/v1/visitors", json={"site": SITE, "lang": "en"})
        answer.raise_for_status()
        token = answer.json()["visitor"]
        problem = RELAY_TYPE if relay else BOT_TYPES[idx % len(BOT_TYPES)]
        answer = await http.post("/chat/api/v1/chats", headers={
            "Authorization": f"Bearer {token}"}, json={
            "site": SITE, "problem_type": problem, "lang": "en"})
        answer.raise_for_status()
        customer = Customer(token, int(answer.json()["id"]), relay=relay)
        await self.connect_customer(customer)
        self.customers.append(customer)

    async def connect_customer(self, customer: Customer) -> None:
        query = urlencode({"token": customer.token, "chat": customer.chat_id,
                           "after": customer.last_seq})
        ws = await self._open_socket(f"/chat/ws?{query}")
        customer.generation += 1
        customer.ws = ws
        self._spawn(self._read_customer(customer, ws), reader=True)
        for client_id, text in list(customer.pending.items()):  # as the widget resends
            await self._send(customer, client_id, text)

    async def _send(self, customer: Customer, client_id: str, text: str) -> None:
        ws = customer.ws
        if ws is None:
            return  # stays pending: sent again on reconnect
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps({"type": "message", "client_id": client_id,
                                      "text": text}))

    async def _read_customer(self, customer: Customer, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            async for raw in ws:
                customer.on_frame(json.loads(raw), self.tally)
        if customer.ws is ws:  # not a drop of ours: the server closed it
            customer.ws = None
            self.tally.closed(ws)
            self._spawn(self._come_back(customer))

    async def _come_back(self, customer: Customer) -> None:
        await asyncio.sleep(self.rng.uniform(*RECONNECT_DELAY))
        for attempt in range(5):
            try:
                await self.connect_customer(customer)
                return
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                self.tally.problem(f"reconnect: {exc!r}")
                await asyncio.sleep(1.0 + attempt)
        self.tally.reconnect_failures += 1

    async def drop(self, customer: Customer) -> None:
        """Abort the socket (no close frame: a phone losing its network), come back."""
        ws = customer.ws
        if ws is None:
            return
        customer.ws = None
        ws.transport.abort()
        self.tally.drops += 1
        self.relay.untime(list(customer.pending), self.tally)
        await self._come_back(customer)

    # --- agents

    async def sign_in(self, agent: Agent) -> None:
        http = httpx.AsyncClient(base_url=self.base, timeout=60.0, headers={"Origin": self.base})
        agent.http = http
        answer = await http.post("/console/login", data={
            "email": agent.email, "password": agent.password, "next": ""})
        agent.cookie = http.cookies.get("kefu_agent") or ""
        if answer.status_code != 303 or not agent.cookie:
            raise BenchSetupError(f"{agent.email} could not sign in: {answer.status_code}")
        await self.connect_agent(agent)

    async def connect_agent(self, agent: Agent) -> None:
        agent.ws = await self._open_socket(
            "/console/chats/ws", additional_headers={"Cookie": f"kefu_agent={agent.cookie}"})
        self._spawn(self._read_agent(agent, agent.ws), reader=True)

    async def _read_agent(self, agent: Agent, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "chat.message":
                    self._agent_message(agent, int(frame["chat"]), frame["message"])
                elif kind == "reload":  # it fell behind: the console re-reads its chats
                    self.tally.agent_reloads += 1
                    self._spawn(self._agent_catch_up(agent))
                elif kind == "error":
                    self.tally.error_frames += 1
                    self.tally.problem(f"agent error frame: {frame.get('message')}")
        if agent.ws is ws:  # the server closed it: the console reconnects and re-reads
            agent.ws = None
            self.tally.closed(ws)
            self.tally.problem(f"agent socket closed: {ws.close_code} {ws.close_reason}")
            self._spawn(self._agent_back(agent))

    async def _agent_back(self, agent: Agent) -> None:
        await asyncio.sleep(self.rng.uniform(*RECONNECT_DELAY))
        for attempt in range(5):
            try:
                await self.connect_agent(agent)
                break
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                self.tally.problem(f"agent reconnect: {exc!r}")
                await asyncio.sleep(1.0 + attempt)
        else:
            self.tally.reconnect_failures += 1
            return
        self.tally.agent_reconnects += 1
        for client_id, (chat_id, text) in list(agent.pending.items()):
            await self._agent_send(agent, chat_id, client_id, text)
        await self._agent_catch_up(agent)

    async def _agent_catch_up(self, agent: Agent) -> None:
        """What the console shows after a reload: each chat's messages, read again."""
        for chat_id in list(agent.chats):
            for attempt in range(3):
                try:
                    messages = await self._customer_messages(agent, chat_id)
                    break
                except httpx.HTTPError as exc:  # a server far behind times out
                    self.tally.problem(f"agent re-read: {exc!r}")
                    await asyncio.sleep(1.0 + attempt)
            else:
                continue  # what it could not read counts as not delivered
            for client_id, seq in messages:
                self.relay.caught_up(chat_id, client_id, seq, self.tally)

    async def _customer_messages(self, agent: Agent, chat_id: int) -> list[tuple[str, int]]:
        """(client id, seq) of the customer's messages in a chat, as the console reads
        them (GET /console/chats/{id}/messages; the database where that route is missing)."""
        answer = await agent.http.get(f"/console/chats/{chat_id}/messages")
        if answer.status_code == 404 and self.target.database_url:
            return await db_customer_messages(self.target.database_url, chat_id)
        answer.raise_for_status()
        body = answer.json()
        messages = body["messages"] if isinstance(body, dict) else body
        return [(str(m["client_id"]), int(m["seq"])) for m in messages
                if m.get("author") == "customer" and m.get("client_id")]

    def _agent_message(self, agent: Agent, chat_id: int, message: dict[str, Any]) -> None:
        client_id = message.get("client_id")
        if message.get("author") == "agent":
            agent.on_own_message(message)
        if message.get("author") != "customer" or not client_id:
            return
        first = self.relay.received(chat_id, str(client_id), int(message["seq"]), self.tally)
        customer = agent.chats.get(chat_id)
        if first and customer and self.rng.random() < self.config.agent_reply_share:
            reply = self._next_id("a")
            customer.expected.add(f"agent-{reply}")  # how the customer's stream names it
            agent.pending[reply] = (chat_id, AGENT_REPLY)
            self.tally.agent_replies += 1
            self._spawn(self._agent_send(agent, chat_id, reply, AGENT_REPLY))

    async def _agent_send(self, agent: Agent, chat_id: int, client_id: str, text: str) -> None:
        if agent.ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await agent.ws.send(json.dumps({"type": "message", "chat": chat_id,
                                                "client_id": client_id, "text": text}))

    async def _console(self, agent: Agent, path: str, body: dict[str, Any] | None = None
                       ) -> httpx.Response:
        answer: httpx.Response = await agent.http.post(path, json=body or {})
        return answer

    async def go_online(self, agent: Agent) -> None:
        answer = await self._console(agent, "/console/chats/presence",
                                     {"presence": "online", "capacity": CHATS_PER_AGENT})
        if answer.status_code == 404 and self.target.database_url:
            self.agent_setup = "database"
            await db_presence(self.target.database_url, agent.email, CHATS_PER_AGENT)
        elif answer.status_code >= 300:
            raise BenchSetupError(f"presence: {answer.status_code} {answer.text[:200]}")

    async def accept(self, agent: Agent, customer: Customer) -> None:
        if self.agent_setup == "database":
            await db_accept(self.target.database_url, agent.email, customer.chat_id)
            return
        answer = await self._console(agent, f"/console/chats/{customer.chat_id}/accept")
        if answer.status_code >= 300:
            raise BenchSetupError(f"accept: {answer.status_code} {answer.text[:200]}")

    async def hand_over(self, http: httpx.AsyncClient, customer: Customer) -> None:
        """The "talk to a person" button; the chat's state is read back to check it."""
        auth = {"Authorization": f"Bearer {customer.token}"}
        path = f"/chat/api/v1/chats/{customer.chat_id}"
        answer = await http.post(f"{path}/handoff", headers=auth)
        if answer.status_code != 200:
            # Seen: a 500 from building the answer after the handover was committed.
            self.tally.handoff_errors += 1
            if self.tally.handoff_errors == 1:
                self.tally.problem(f"handoff answered {answer.status_code}: {answer.text[:80]}")
        read = await _get(http, f"{path}/messages", {"after": customer.last_seq}, auth)
        owner = read.json()["chat"]["owner"]
        if owner != "queue":
            raise BenchSetupError(f"chat {customer.chat_id} was not handed over: {owner}")
        customer.bot_owned = False

    async def staff_relay_chats(self, http: httpx.AsyncClient) -> None:
        """Each agent goes online before its chats are handed over, so the queue offers
        them to that agent and no other; then it accepts them."""
        relay = [c for c in self.customers if c.relay]
        for n, (email, password) in enumerate(self.target.agents):
            chats = relay[n * CHATS_PER_AGENT:(n + 1) * CHATS_PER_AGENT]
            if not chats:
                break
            agent = Agent(email, password)
            self.agents.append(agent)
            await self.sign_in(agent)
            await self.go_online(agent)
            for customer in chats:
                await self.hand_over(http, customer)
            for customer in chats:
                await self.accept(agent, customer)
                agent.chats[customer.chat_id] = customer

    # --- phases

    async def ramp(self, http: httpx.AsyncClient) -> float:
        started = time.perf_counter()
        gate = asyncio.Semaphore(RAMP_CONCURRENCY)
        relay_every = max(1, self.config.connections // max(1, self.config.relay_chats))
        relay_left = self.config.relay_chats

        async def one(idx: int, relay: bool) -> None:
            try:
                for attempt in range(3):
                    try:
                        await self.open_customer(http, idx, relay)
                        return
                    except (httpx.HTTPError, OSError, InvalidHandshake, TimeoutError) as exc:
                        self.tally.problem(f"ramp: {exc!r}")
                        await asyncio.sleep(1.0 + attempt)
                self.tally.ramp_failures += 1
            finally:
                gate.release()

        last_report = started
        for idx in range(self.config.connections):
            due = started + idx / self.config.ramp_rate
            if due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            await gate.acquire()
            relay = relay_left > 0 and idx % relay_every == 0
            relay_left -= relay
            self._spawn(one(idx, relay))
            if time.perf_counter() - last_report > 10:
                last_report = time.perf_counter()
                console.print(f"ramp: {len(self.customers)} connected after "
                              f"{last_report - started:.0f} s")
        for _ in range(RAMP_CONCURRENCY):  # every set-up has finished
            await gate.acquire()
        return time.perf_counter() - started

    async def drive(self) -> float:
        config = self.config
        bot_pool = [c for c in self.customers if not c.relay]
        relay_pool = [c for c in self.customers if c.relay and not c.bot_owned]
        dropping = self.rng.sample(self.customers,
                                   round(config.drop_share * len(self.customers)))
        drops = sorted(((self.rng.uniform(0.2, 0.8) * config.seconds, c) for c in dropping),
                       key=lambda pair: pair[0])
        asked = relayed = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < config.seconds:
            while asked < elapsed * config.bot_rate:
                asked += 1
                self._ask_bot(bot_pool)
            while relay_pool and relayed < elapsed * config.relay_rate:
                relayed += 1
                self._relay(relay_pool)
            while drops and drops[0][0] <= elapsed:
                self._spawn(self.drop(drops.pop(0)[1]))
            await asyncio.sleep(TICK)
        return time.perf_counter() - started

    def _pick(self, pool: list[Customer], ok: Callable[[Customer], bool]) -> Customer | None:
        for _ in range(32):
            customer = pool[self.rng.randrange(len(pool))]
            if ok(customer):
                return customer
        return next((c for c in pool if ok(c)), None)

    def _ask_bot(self, pool: list[Customer]) -> None:
        customer = self._pick(pool, lambda c: c.free_for_bot) if pool else None
        if customer is None:
            self.tally.bot_skipped += 1
            return
        client_id = self._next_id("q")
        text = self.questions[self.tally.bot_asked % len(self.questions)]
        self.tally.bot_asked += 1
        customer.ask(client_id, text)
        self._spawn(self._send(customer, client_id, text))

    def _relay(self, pool: list[Customer]) -> None:
        customer = self._pick(pool, lambda c: c.ws is not None)
        if customer is None:
            self.tally.relay_skipped += 1
            return
        client_id = self._next_id("r")
        text = self.questions[-1 - self.tally.relay_sent % len(self.questions)]
        self.tally.relay_sent += 1
        customer.send(client_id, text)
        self.relay.sent(client_id, customer.chat_id)
        self._spawn(self._send(customer, client_id, text))

    def outstanding(self) -> int:
        return (sum(len(c.pending) + c.replies_missing() + (c.waiting is not None)
                    for c in self.customers) + self.relay.undelivered()
                + sum(len(a.pending) for a in self.agents))

    async def drain(self) -> float:
        """Wait while the server is still catching up: until nothing is outstanding, or
        nothing came in for DRAIN_STALL seconds, or `drain_seconds` at most. What is
        still outstanding then counts as lost."""
        started = time.perf_counter()
        deadline = started + self.config.drain_seconds
        last, progress_at = self.outstanding(), started
        # A poll: "nothing outstanding" is a sum over every customer, not one event.
        while last or self._tasks:
            now = time.perf_counter()
            if now >= deadline or now - progress_at >= DRAIN_STALL:
                break
            await asyncio.sleep(min(0.2, deadline - now))
            current = self.outstanding()
            if current < last:
                progress_at = time.perf_counter()
            last = current
        return time.perf_counter() - started

    async def ping_all(self) -> int:
        async def ping(customer: Customer) -> bool:
            ws = customer.ws
            if ws is None:
                return False
            customer.pong = asyncio.Event()
            try:
                await ws.send('{"type": "ping"}')
                async with asyncio.timeout(PING_TIMEOUT):
                    await customer.pong.wait()
            except (ConnectionClosed, TimeoutError):
                return False
            return True

        return sum(await asyncio.gather(*(ping(c) for c in self.customers)))

    async def close(self) -> None:
        sockets = [c.ws for c in self.customers] + [a.ws for a in self.agents]
        for customer in self.customers:
            customer.ws = None  # what the readers see next is our own doing
        for agent in self.agents:
            agent.ws = None
            if agent.http is not None:
                await agent.http.aclose()
        for ws in sockets:
            if ws is not None:
                ws.transport.abort()
        tasks = [*self._tasks, *self._readers]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self) -> Phases:
        limits = httpx.Limits(max_connections=RAMP_CONCURRENCY,
                              max_keepalive_connections=RAMP_CONCURRENCY)
        async with httpx.AsyncClient(base_url=self.base, limits=limits, timeout=120.0,
                                     headers={"Origin": self.base}) as http:
            try:
                return await self._phases(http)
            finally:
                await self.close()

    async def _phases(self, http: httpx.AsyncClient) -> Phases:
        console.print(f"ramp: {self.config.connections} widget connections")
        ramp_s = await self.ramp(http)
        console.print(f"ramp: {len(self.customers)} connected in {ramp_s:.1f} s; "
                      f"{len(self.target.agents)} agents take the relay chats")
        await self.staff_relay_chats(http)
        console.print(f"drive: {self.config.seconds:.0f} s")
        before = self.tally.message_frames, self.tally.chat_frames
        if self.on_drive:
            self.on_drive(True)
        drive_s = await self.drive()
        if self.on_drive:
            self.on_drive(False)
        frames = self.tally.message_frames - before[0], self.tally.chat_frames - before[1]
        drain_s = await self.drain()
        return Phases(ramp_s=ramp_s, drive_s=drive_s, drain_s=drain_s,
                      held=await self.ping_all(), drive_frames=frames)


async def _get(http: httpx.AsyncClient, path: str, params: dict[str, Any],
               headers: dict[str, str]) -> httpx.Response:
    """A GET, tried again on a connection the server closed after an error answer."""
    for attempt in range(3):
        try:
            return await http.get(path, params=params, headers=headers)
        except (httpx.ReadError, httpx.RemoteProtocolError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# Agents' set-up through the service, where the console's routes are missing -----------------


async def db_presence(database_url: str, email: str, capacity: int) -> None:
    from kefu.chat.models import Presence
    from kefu.chat.routing import set_presence

    async def work(db: Any, agent: Any) -> None:
        await set_presence(db, agent, Presence.ONLINE, capacity)

    await _as_agent(database_url, email, work)


async def db_accept(database_url: str, email: str, chat_id: int) -> None:
    from kefu.chat.agents import accept
    from kefu.chat.models import Chat

    async def work(db: Any, agent: Any) -> None:
        await accept(db, await db.get(Chat, chat_id), agent)

    await _as_agent(database_url, email, work)


async def db_customer_messages(database_url: str, chat_id: int) -> list[tuple[str, int]]:
    from sqlalchemy import select

    from kefu.chat.frames import client_id_of
    from kefu.core.db import make_engine, make_session_factory
    from kefu.tickets.models import TicketMessage

    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as db:
            rows = (await db.execute(select(TicketMessage.external_id, TicketMessage.seq).where(
                TicketMessage.ticket_id == chat_id, TicketMessage.author_type == "customer",
                TicketMessage.seq.is_not(None)))).all()
    finally:
        await engine.dispose()
    return [(client_id, seq) for external_id, seq in rows
            if (client_id := client_id_of(external_id)) and seq is not None]


async def _as_agent(database_url: str, email: str,
                    work: Callable[[Any, Any], Awaitable[None]]) -> None:
    from kefu.accounts import service as accounts
    from kefu.core.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as db:
            agent = await accounts.agent_by_email(db=db, email=email)
            await work(db, agent)
            await db.commit()
    finally:
        await engine.dispose()
