"""`kefu bench chat`: thousands of widget connections, the bot, agents and dropped sockets.

Against `--url`, or a throw-away desk (`bench_desk`) served by one uvicorn process as
`kefu run` serves it (SQLite by default), this process plays every customer and agent:

1. Ramp: `connections` visitors (POST /chat/api/v1/visitors, site "demo"), each with a
   chat (POST /chat/api/v1/chats) and a widget WebSocket (/chat/ws), paced at
   `ramp_rate` a second so the server's accept queue never overflows.
2. Relay: `relay_chats` of them press "talk to a person" (POST .../handoff). Agents of
   the api team, one per MAX_CAPACITY chats, sign in (POST /console/login), go online
   (POST /console/chats/presence), accept their chats (POST /console/chats/{id}/accept)
   and hold the console WebSocket (/console/chats/ws). Each agent goes online before
   its chats are handed over, so the queue offers them to that agent and nobody else.
3. Drive, open loop for `seconds`: `bot_rate` Banking77 test questions a second, each
   on a bot-owned chat with no question pending; `relay_rate` customer messages a second
   on the agents' chats; agents answer a share of them over their socket. A share
   (`drop_share`) of the customers abort their socket once, at a random moment, and
   reconnect with after=<last seq seen>, resending what was not echoed yet, as the
   widget does.
4. Drain until nothing is pending, then a ping on every customer socket: `connections`
   is the number that answered.

Measured on the client: bot reply = the question sent -> the next bot or system frame
on that socket (a handover's notice counts; a reply that arrives on a later socket,
after a drop, is counted but not timed). Relay = the customer's send -> the agent's
socket receiving that client_id. `lost` = messages sent (echoed, or only written before
a drop) that never came back in the chat's numbered stream, customer messages of an
agent's chat never delivered to the agent, and agent replies the customer never saw.
`duplicated` = raw frames repeating a seq or a client_id on one conversation (across
its reconnects), or a customer message the agent received twice.
"""

import asyncio
import contextlib
import csv
import dataclasses
import json
import os
import random
import resource
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from rich.console import Console
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

from kefu.bench.load import percentile
from kefu.bench.server import (
    BenchSetupError,
    bench_desk,
    free_port,
    process_tree_cpu,
    server_log_tail,
    server_process,
)
from kefu.bench.tickets import _machine_ticks
from kefu.core.datasets import shared_data_dir

console = Console(stderr=True)
SITE = "demo"
RELAY_TYPE = "api"  # its team's agents take the relay chats; bot chats go elsewhere
BOT_TYPES = ("deposit_withdrawal", "account", "trading", "other", "kyc")
RELAY_TEAM = "api"
CHATS_PER_AGENT = 20  # kefu.chat.routing.MAX_CAPACITY
RAMP_CONCURRENCY = 32  # HTTP set-ups in flight while ramping
TICK = 0.005  # the driver's clock, seconds
PING_TIMEOUT = 30.0
RECONNECT_DELAY = (0.1, 1.0)  # seconds a dropped client waits before it comes back
HIGH_LIMIT = "1000000000"  # per-address chat limits: every client here is 127.0.0.1


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
    drain_seconds: float = 20.0
    deflate: bool = True  # browsers offer permessage-deflate
    seed: int = 7


@dataclass
class Tally:
    bot_latencies: list[float] = field(default_factory=list)
    relay_latencies: list[float] = field(default_factory=list)
    bot_asked: int = 0
    bot_untimed: int = 0  # answered on a later socket, after a drop
    bot_skipped: int = 0  # no bot-owned chat free to ask at that moment
    handovers: int = 0
    relay_sent: int = 0
    relay_skipped: int = 0
    agent_replies: int = 0
    duplicated: int = 0
    message_frames: int = 0
    error_frames: int = 0
    agent_reloads: int = 0
    drops: int = 0
    unplanned_closes: int = 0
    reconnect_failures: int = 0
    ramp_failures: int = 0
    samples: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.samples) < 8:
            self.samples.append(text[:200])


def sample_questions(count: int, seed: int, data: Path | None = None) -> list[str]:
    """A fixed, seeded sample of Banking77 test questions (the `text` column)."""
    path = (data or shared_data_dir()) / "banking77" / "test.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh) if row.get("text")]
    if not texts:
        raise BenchSetupError(f"no questions in {path}")
    rng = random.Random(seed)  # noqa: S311 (a reproducible sample, not a secret)
    rng.shuffle(texts)
    return [texts[i % len(texts)] for i in range(count)]


def raise_open_files(needed: int) -> int:
    """Lift this process's open-file limit to the hard limit; refuse a run it cannot hold."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise BenchSetupError(f"{needed} sockets need {needed} open files; the limit is {soft}")
    return int(soft)


def _vm_kb(pid: int, field_name: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return None


# The customers -------------------------------------------------------------------------


class Customer:
    """One widget: its chat, its socket, and what it sent and saw (for lost/duplicated)."""

    def __init__(self, idx: int, token: str, chat_id: int, *, relay: bool) -> None:
        self.idx, self.token, self.chat_id, self.relay = idx, token, chat_id, relay
        self.ws: ClientConnection | None = None
        self.generation = 0
        self.last_seq = 0
        self.seqs: set[int] = set()
        self.client_ids: set[str] = set()
        self.sent: dict[str, str] = {}  # every client id sent on this chat -> text
        self.pending: dict[str, str] = {}  # sent, echo not seen yet
        self.expected: set[str] = set()  # agents' replies this chat must show
        self.bot_owned = not relay
        self.waiting: tuple[str, float, int] | None = None  # question, sent at, socket
        self.pong: asyncio.Event | None = None
        self.reader: asyncio.Task[None] | None = None

    @property
    def free_for_bot(self) -> bool:
        return self.ws is not None and self.bot_owned and self.waiting is None


class Agent:
    def __init__(self, email: str, password: str) -> None:
        self.email, self.password = email, password
        self.http: httpx.AsyncClient | None = None
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.chats: list[Customer] = []


@dataclass(frozen=True)
class Target:
    url: str
    server_pid: int | None = None
    agents: tuple[tuple[str, str], ...] = ()  # (email, password)
    database_url: str = ""  # set when this run made the desk: agents' set-up fallback


class ChatLoad:
    """One run against one server; every socket lives on this process's event loop."""

    def __init__(self, target: Target, config: ChatBenchConfig, questions: list[str]) -> None:
        self.target, self.config = target, config
        self.base = target.url.rstrip("/")
        parts = urlsplit(self.base)
        self.ws_base = ("wss://" if parts.scheme == "https" else "ws://") + parts.netloc
        self.questions = questions
        self.rng = random.Random(config.seed)  # noqa: S311 (a benchmark's schedule)
        self.tally = Tally()
        self.customers: list[Customer] = []
        self.agents: list[Agent] = []
        self.relay_sent_at: dict[str, float] = {}  # relay client id -> when sent
        self.relay_ids: dict[str, int] = {}  # relay client id -> chat
        self.agent_seen: set[tuple[int, str]] = set()
        self.agent_setup = "http"
        self._ids = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- helpers

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids}"

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _question(self) -> str:
        return self.questions[self.tally.bot_asked % len(self.questions)]

    def _relay_text(self) -> str:
        return self.questions[-1 - self.tally.relay_sent % len(self.questions)]

    async def _open_socket(self, path: str, **options: Any) -> ClientConnection:
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
        customer = Customer(idx, token, int(answer.json()["id"]), relay=relay)
        await self.connect_customer(customer)
        self.customers.append(customer)

    async def connect_customer(self, customer: Customer) -> None:
        query = urlencode({"token": customer.token, "chat": customer.chat_id,
                           "after": customer.last_seq})
        ws = await self._open_socket(f"/chat/ws?{query}")
        customer.generation += 1
        customer.ws = ws
        customer.reader = asyncio.create_task(self._read_customer(customer, ws))
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
                self._customer_frame(customer, json.loads(raw))
        if customer.ws is ws:  # not a drop of ours: the server closed it
            customer.ws = None
            self.tally.unplanned_closes += 1
            self.tally.problem(f"customer socket closed: {ws.close_code} {ws.close_reason}")
            self._spawn(self._come_back(customer))

    def _customer_frame(self, customer: Customer, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "message":
            self._customer_message(customer, frame["message"])
        elif kind == "chat":
            owner = frame["chat"].get("owner")
            if owner is not None and owner != "bot" and customer.bot_owned:
                customer.bot_owned = False
                if not customer.relay:
                    self.tally.handovers += 1
        elif kind == "pong":
            if customer.pong is not None:
                customer.pong.set()
        elif kind == "error":
            self.tally.error_frames += 1
            self.tally.problem(f"error frame: {frame.get('message')}")

    def _customer_message(self, customer: Customer, message: dict[str, Any]) -> None:
        self.tally.message_frames += 1
        seq = int(message["seq"])
        if seq in customer.seqs:
            self.tally.duplicated += 1
        customer.seqs.add(seq)
        customer.last_seq = max(customer.last_seq, seq)
        client_id = message.get("client_id")
        if client_id:
            if client_id in customer.client_ids:
                self.tally.duplicated += 1
            customer.client_ids.add(client_id)
            customer.pending.pop(client_id, None)
        waiting = customer.waiting
        if waiting is not None and message.get("author") in ("bot", "system"):
            customer.waiting = None
            if waiting[2] == customer.generation:
                self.tally.bot_latencies.append(time.perf_counter() - waiting[1])
            else:
                self.tally.bot_untimed += 1

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
        await self._come_back(customer)

    # --- agents

    async def sign_in(self, agent: Agent) -> None:
        agent.http = httpx.AsyncClient(base_url=self.base, timeout=60.0,
                                       headers={"Origin": self.base})
        answer = await agent.http.post("/console/login", data={
            "email": agent.email, "password": agent.password, "next": ""})
        cookie = agent.http.cookies.get("kefu_agent")
        if answer.status_code != 303 or not cookie:
            raise BenchSetupError(f"{agent.email} could not sign in: {answer.status_code}")
        agent.ws = await self._open_socket("/console/chats/ws",
                                           additional_headers={"Cookie": f"kefu_agent={cookie}"})
        agent.reader = asyncio.create_task(self._read_agent(agent, agent.ws))

    async def _read_agent(self, agent: Agent, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):
            async for raw in ws:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "chat.message":
                    message = frame["message"]
                    if message.get("author") == "customer" and message.get("client_id"):
                        await self._agent_received(agent, int(frame["chat"]),
                                                   str(message["client_id"]))
                elif kind == "reload":
                    self.tally.agent_reloads += 1
                elif kind == "error":
                    self.tally.error_frames += 1
                    self.tally.problem(f"agent error frame: {frame.get('message')}")
        if agent.ws is ws:
            self.tally.unplanned_closes += 1
            self.tally.problem(f"agent socket closed: {ws.close_code} {ws.close_reason}")

    async def _agent_received(self, agent: Agent, chat_id: int, client_id: str) -> None:
        key = (chat_id, client_id)
        if key in self.agent_seen:
            self.tally.duplicated += 1
            return
        self.agent_seen.add(key)
        sent_at = self.relay_sent_at.pop(client_id, None)
        if sent_at is None:
            return
        self.tally.relay_latencies.append(time.perf_counter() - sent_at)
        if self.rng.random() < self.config.agent_reply_share and agent.ws is not None:
            reply = self._next_id("a")
            customer = next(c for c in agent.chats if c.chat_id == chat_id)
            customer.expected.add(f"agent-{reply}")
            self.tally.agent_replies += 1
            with contextlib.suppress(ConnectionClosed):
                await agent.ws.send(json.dumps({
                    "type": "message", "chat": chat_id, "client_id": reply,
                    "text": "Thanks, I am checking your account now."}))

    async def _console(self, agent: Agent, path: str, body: dict[str, Any] | None = None
                       ) -> httpx.Response:
        assert agent.http is not None
        return await agent.http.post(path, json=body or {})

    async def go_online(self, agent: Agent) -> None:
        answer = await self._console(agent, "/console/chats/presence",
                                     {"presence": "online", "capacity": CHATS_PER_AGENT})
        if answer.status_code == 404 and self.target.database_url:
            self.agent_setup = "database"
            await _db_presence(self.target.database_url, agent.email, CHATS_PER_AGENT)
        elif answer.status_code >= 300:
            raise BenchSetupError(f"presence: {answer.status_code} {answer.text[:200]}")

    async def accept(self, agent: Agent, customer: Customer) -> None:
        if self.agent_setup == "database":
            await _db_accept(self.target.database_url, agent.email, customer.chat_id)
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
            # Seen: a 500 from the answer's view after the handover was committed.
            self.tally.problem(f"handoff answered {answer.status_code}: {answer.text[:80]}")
        for attempt in range(3):  # a 500 closes its connection; the pool may hand it out
            try:
                read = await http.get(f"{path}/messages", params={"after": customer.last_seq},
                                      headers=auth)
                break
            except (httpx.ReadError, httpx.RemoteProtocolError):
                if attempt == 2:
                    raise
        owner = read.json()["chat"]["owner"]
        if owner != "queue":
            raise BenchSetupError(f"chat {customer.chat_id} was not handed over: {owner}")
        customer.bot_owned = False

    async def staff_relay_chats(self, http: httpx.AsyncClient) -> None:
        """Each agent online, then its chats handed over (offered to it alone), accepted."""
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
                agent.chats.append(customer)

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
        drops = sorted((self.rng.uniform(0.2, 0.8) * config.seconds, c) for c in self.rng.sample(
            self.customers, round(config.drop_share * len(self.customers))))
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
        client_id, text = self._next_id("q"), self._question()
        self.tally.bot_asked += 1
        customer.sent[client_id] = customer.pending[client_id] = text
        customer.waiting = (client_id, time.perf_counter(), customer.generation)
        self._spawn(self._send(customer, client_id, text))

    def _relay(self, pool: list[Customer]) -> None:
        customer = self._pick(pool, lambda c: c.ws is not None)
        if customer is None:
            self.tally.relay_skipped += 1
            return
        client_id, text = self._next_id("r"), self._relay_text()
        self.tally.relay_sent += 1
        customer.sent[client_id] = customer.pending[client_id] = text
        self.relay_ids[client_id] = customer.chat_id
        self.relay_sent_at[client_id] = time.perf_counter()
        self._spawn(self._send(customer, client_id, text))

    def outstanding(self) -> int:
        return (sum(len(c.pending) + len(c.expected - c.client_ids)
                    + (c.waiting is not None) for c in self.customers)
                + sum((chat, cid) not in self.agent_seen for cid, chat in self.relay_ids.items()))

    async def drain(self) -> None:
        deadline = time.perf_counter() + self.config.drain_seconds
        # A poll: "nothing outstanding" is a sum over every customer, not one event.
        while self.outstanding() or self._tasks:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            await asyncio.sleep(min(0.1, left))

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

        answered = await asyncio.gather(*(ping(c) for c in self.customers))
        return sum(answered)

    def losses(self) -> dict[str, int]:
        stream = sum(len(set(c.sent) - c.client_ids) for c in self.customers)
        to_agent = sum((chat, cid) not in self.agent_seen for cid, chat in self.relay_ids.items())
        to_customer = sum(len(c.expected - c.client_ids) for c in self.customers)
        unanswered = sum(c.waiting is not None for c in self.customers)
        return {"lost_customer_stream": stream, "lost_to_agent": to_agent,
                "lost_to_customer": to_customer, "bot_unanswered": unanswered}

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        sockets = [c.ws for c in self.customers] + [a.ws for a in self.agents]
        for customer in self.customers:
            customer.ws = None
        for agent in self.agents:
            agent.ws = None
            if agent.http is not None:
                await agent.http.aclose()
        for ws in sockets:
            if ws is not None:
                ws.transport.abort()
        readers = [c.reader for c in self.customers] + [a.reader for a in self.agents]
        for reader in readers:
            if reader is not None:
                reader.cancel()
        await asyncio.gather(*(r for r in readers if r is not None), return_exceptions=True)

    async def run(self) -> dict[str, Any]:
        limits = httpx.Limits(max_connections=RAMP_CONCURRENCY,
                              max_keepalive_connections=RAMP_CONCURRENCY)
        async with httpx.AsyncClient(base_url=self.base, limits=limits, timeout=120.0,
                                     headers={"Origin": self.base}) as http:
            try:
                return await self._phases(http)
            finally:
                await self.close()

    async def _phases(self, http: httpx.AsyncClient) -> dict[str, Any]:
        console.print(f"ramp: {self.config.connections} widget connections")
        ramp_s = await self.ramp(http)
        console.print(f"ramp: {len(self.customers)} connected in {ramp_s:.1f} s; "
                      f"{len(self.target.agents)} agents take the relay chats")
        await self.staff_relay_chats(http)
        pid = self.target.server_pid
        cpu_before = process_tree_cpu(pid) if pid else None
        ticks_before, own_before = _machine_ticks(), _own_cpu()
        console.print(f"drive: {self.config.seconds:.0f} s")
        drive_s = await self.drive()
        cpu_after, ticks_after = (process_tree_cpu(pid) if pid else None), _machine_ticks()
        own_cpu = _own_cpu() - own_before
        await self.drain()
        held = await self.ping_all()
        figures = self._figures(held, ramp_s, drive_s)
        figures["client_cpu_s"] = round(own_cpu, 1)
        if cpu_before is not None and cpu_after is not None:
            figures["server_cpu_s"] = round(cpu_after - cpu_before, 1)
        if ticks_before and ticks_after and ticks_after[1] > ticks_before[1]:
            busy = ticks_after[0] - ticks_before[0]
            figures["machine_busy_pct"] = round(
                100 * busy / (ticks_after[1] - ticks_before[1]), 1)
        return figures

    def _figures(self, held: int, ramp_s: float, drive_s: float) -> dict[str, Any]:
        tally, config = self.tally, self.config
        losses = self.losses()
        sent = tally.bot_asked + tally.relay_sent + tally.agent_replies
        pid = self.target.server_pid
        peak = _vm_kb(pid, "VmHWM") if pid else None
        figures: dict[str, Any] = {
            "connections": held, "connections_asked": config.connections,
            "agents": len(self.agents), "relay_chats": sum(c.relay for c in self.customers),
            "msgs_per_s": round(sent / drive_s, 1),
            "message_frames_per_s": round(tally.message_frames / drive_s, 1),
            "bot_questions": tally.bot_asked, "bot_replies_timed": len(tally.bot_latencies),
            "bot_reply_p50_ms": _ms(percentile(tally.bot_latencies, 50)),
            "bot_reply_p99_ms": _ms(percentile(tally.bot_latencies, 99)),
            "bot_handovers": tally.handovers,
            "relay_messages": tally.relay_sent, "relay_delivered": len(tally.relay_latencies),
            "relay_p50_ms": _ms(percentile(tally.relay_latencies, 50)),
            "relay_p99_ms": _ms(percentile(tally.relay_latencies, 99)),
            "agent_replies": tally.agent_replies,
            "lost": losses["lost_customer_stream"] + losses["lost_to_agent"]
            + losses["lost_to_customer"],
            "duplicated": tally.duplicated, **losses,
            "rss_mb": round(peak / 1024) if peak else None,
            "client_rss_mb": round((_vm_kb(os.getpid(), "VmHWM") or 0) / 1024),
            "drops": tally.drops, "unplanned_closes": tally.unplanned_closes,
            "reconnect_failures": tally.reconnect_failures,
            "ramp_failures": tally.ramp_failures, "error_frames": tally.error_frames,
            "agent_reloads": tally.agent_reloads, "bot_untimed": tally.bot_untimed,
            "bot_skipped": tally.bot_skipped, "relay_skipped": tally.relay_skipped,
            "ramp_s": round(ramp_s, 1), "drive_s": round(drive_s, 1),
            "seconds": config.seconds, "bot_rate": config.bot_rate,
            "relay_rate": config.relay_rate, "drop_share": config.drop_share,
            "agent_reply_share": config.agent_reply_share, "deflate": config.deflate,
            "agent_setup": self.agent_setup, "client_processes": 1,
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        }
        for sample in tally.samples:
            console.print(f"[yellow]note:[/yellow] {sample}")
        return figures


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


# Agents in a throw-away desk -------------------------------------------------------------


async def create_agents(database_url: str, count: int) -> tuple[tuple[str, str], ...]:
    """`count` agents of the relay team, each with a password of its own."""
    from kefu.accounts import service as accounts
    from kefu.core.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    made = []
    try:
        async with make_session_factory(engine)() as db:
            team = await accounts.team_by_slug(db=db, slug=RELAY_TEAM)
            for n in range(count):
                email, password = f"bench-agent-{n}@kefu.local", secrets.token_urlsafe(16)
                await accounts.create_agent(db=db, actor=None, email=email,
                                            name=f"Bench Agent {n}", password=password,
                                            team_id=team.id)
                made.append((email, password))
            await db.commit()
    finally:
        await engine.dispose()
    return tuple(made)


async def _db_presence(database_url: str, email: str, capacity: int) -> None:
    """Online with room for `capacity` chats, written as the console would (its HTTP
    route is not in this checkout yet)."""
    from kefu.chat.models import Presence
    from kefu.chat.routing import set_presence

    async def work(db: Any, agent: Any) -> None:
        await set_presence(db, agent, Presence.ONLINE, capacity)

    await _as_agent(database_url, email, work)


async def _db_accept(database_url: str, email: str, chat_id: int) -> None:
    from kefu.chat.agents import accept
    from kefu.chat.models import Chat

    async def work(db: Any, agent: Any) -> None:
        chat = await db.get(Chat, chat_id)
        await accept(db, chat, agent)

    await _as_agent(database_url, email, work)


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


# The command -------------------------------------------------------------------------------


def _agents_needed(config: ChatBenchConfig) -> int:
    return -(-config.relay_chats // CHATS_PER_AGENT) if config.relay_rate > 0 else 0


def _normalised(config: ChatBenchConfig) -> ChatBenchConfig:
    relay_chats = min(config.relay_chats, config.connections // 2)
    if config.relay_rate <= 0:
        relay_chats = 0
    return dataclasses.replace(config, relay_chats=relay_chats)


@contextlib.contextmanager
def _own_server(db: str, agents: int) -> Iterator[Target]:
    with bench_desk(db, jobs_in_process=True) as desk:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        desk = dataclasses.replace(desk, env={**desk.env, **_server_settings(url)})
        made = asyncio.run(create_agents(desk.database_url, agents)) if agents else ()
        with server_process(desk, workers=1, port=port) as server:
            try:
                yield Target(url=server.url, server_pid=server.pid, agents=made,
                             database_url=desk.database_url)
            except BaseException:
                console.print(f"the server's log ends:\n{server_log_tail(desk, 60)}")
                raise


def _server_settings(url: str) -> dict[str, str]:
    """Every client comes from 127.0.0.1: the per-address limits would refuse the run."""
    return {"KEFU_BASE_URL": url, "KEFU_CHAT_VISITORS_PER_IP_HOUR": HIGH_LIMIT,
            "KEFU_CHAT_CHATS_PER_IP_HOUR": HIGH_LIMIT,
            "KEFU_CHAT_MESSAGES_PER_MINUTE": HIGH_LIMIT,
            "KEFU_LOGIN_ATTEMPTS_PER_MINUTE": "100000"}


def read_agents_file(path: Path) -> tuple[tuple[str, str], ...]:
    """`email password` per line: agents of the api team on a desk this run did not make."""
    rows = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            email, _, password = line.strip().partition(" ")
            rows.append((email, password.strip()))
    return tuple(rows)


def run_chat_bench(config: ChatBenchConfig, *, url: str = "", db: str = "sqlite",
                   agents_file: Path | None = None, server_pid: int | None = None
                   ) -> dict[str, Any]:
    loadavg_start = [round(x, 2) for x in os.getloadavg()]
    config = _normalised(config)
    agents = _agents_needed(config)
    raise_open_files(config.connections + agents + 256)
    questions = sample_questions(max(2000, int(config.bot_rate * config.seconds) + 100),
                                 config.seed)
    if url:
        listed = read_agents_file(agents_file) if agents_file else ()
        if len(listed) < agents:
            console.print(f"[yellow]{agents} agents needed for {config.relay_chats} relay "
                          f"chats, {len(listed)} given (--agents-file): no relay[/yellow]")
            config = dataclasses.replace(config, relay_chats=0, relay_rate=0.0)
        target = Target(url=url, server_pid=server_pid, agents=listed[:agents])
        figures = asyncio.run(ChatLoad(target, config, questions).run())
    else:
        with _own_server(db, agents) as target:
            figures = asyncio.run(ChatLoad(target, config, questions).run())
    figures["db"] = db if not url else None
    figures["loadavg_start"] = loadavg_start
    print(json.dumps(figures))
    return figures
