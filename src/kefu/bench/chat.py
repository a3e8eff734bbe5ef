"""`kefu bench chat`: thousands of widget connections, the bot, agents and dropped sockets.

Against `--url`, or a throw-away desk (`bench_desk`) served by one uvicorn process as
`kefu run` serves it (SQLite by default, `--db postgresql`), this process plays every
customer and agent (`kefu.bench.chat_load`):

1. Ramp: `connections` visitors (POST /chat/api/v1/visitors, site "demo"), each with a
   chat (POST /chat/api/v1/chats) and a widget WebSocket (/chat/ws), at most
   `ramp_rate` new ones a second and RAMP_CONCURRENCY set-ups in flight.
2. Relay: `relay_chats` of them press "talk to a person" (POST .../handoff). Agents of
   the api team, one per 20 chats (the largest capacity), sign in (POST /console/login),
   go online (POST /console/chats/presence), accept (POST /console/chats/{id}/accept)
   and hold the console WebSocket (/console/chats/ws).
3. Drive, open loop for `seconds`: `bot_rate` questions a second (a fixed seeded sample
   of Banking77 test questions), each on a bot-owned chat with no question pending;
   `relay_rate` customer messages a second on the agents' chats; agents answer a share
   over their socket. `drop_share` of the customers abort their socket once, at a
   random moment, and reconnect with after=<last seq seen>, resending what was not
   echoed, as the widget does.
4. Drain while the server catches up (until nothing is pending, or nothing came for
   15 s, or `drain_seconds`), then ping every customer socket: `connections` is how
   many answered.

Bot reply: the question sent -> the next bot or system frame on that socket (the
handover notice counts). Relay: the customer's send -> the agent's socket receiving that
client_id. `lost` and `duplicated`: `kefu.bench.chat_tally`. `rss_mb`: the server
process's peak resident memory (VmHWM). The load runs in this one process, apart from
the server; `client_cpu_s` says what it used while driving.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from kefu.bench.chat_load import CHATS_PER_AGENT, ChatBenchConfig, ChatLoad, Phases, Target
from kefu.bench.load import percentile
from kefu.bench.server import (
    BenchDesk,
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
RELAY_TEAM = "api"
HIGH_LIMIT = "1000000000"  # per-address chat limits: every client here is 127.0.0.1
STARTUP_SECONDS = 300.0


def sample_questions(count: int, seed: int, data: Path | None = None) -> list[str]:
    """A fixed, seeded sample of Banking77 test questions (the `text` column)."""
    path = (data or shared_data_dir()) / "banking77" / "test.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh) if row.get("text")]
    if not texts:
        raise BenchSetupError(f"no questions in {path}")
    random.Random(seed).shuffle(texts)  # noqa: S311 (a reproducible sample)
    return [texts[i % len(texts)] for i in range(count)]


def raise_open_files(needed: int) -> int:
    """Lift this process's open-file limit to the hard limit (the server it starts
    inherits it); refuse a run that cannot hold its sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise BenchSetupError(f"{needed} sockets need {needed} open files; the limit is {soft}")
    return int(soft)


def _status_kb(pid: int, name: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return None


# A desk of our own --------------------------------------------------------------------------


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


def server_settings(url: str) -> dict[str, str]:
    """The base URL (the console socket checks Origin against it), and per-address limits
    that would refuse a run whose every client is 127.0.0.1."""
    return {"KEFU_BASE_URL": url, "KEFU_CHAT_VISITORS_PER_IP_HOUR": HIGH_LIMIT,
            "KEFU_CHAT_CHATS_PER_IP_HOUR": HIGH_LIMIT,
            "KEFU_CHAT_MESSAGES_PER_MINUTE": HIGH_LIMIT,
            "KEFU_LOGIN_ATTEMPTS_PER_MINUTE": "100000"}


async def _startup_work(database_url: str, *, run_now: bool) -> tuple[int, int]:
    """(unfinished jobs, the help centre's latest change) of a freshly seeded desk; with
    `run_now`, its queued jobs fall due at once.

    Seeding the help centre queues a full index rebuild two minutes later
    (`kb.refresh_head`). Measured, that rebuild stalls the server for seconds; a desk in
    service has it behind it, so the server runs it before the load starts."""
    from sqlalchemy import func, select, update

    from kefu.core.clock import utcnow
    from kefu.core.db import make_engine, make_session_factory
    from kefu.core.jobs import Job
    from kefu.kb.models import KbIndexChange

    engine = make_engine(database_url)
    try:
        async with make_session_factory(engine)() as db:
            if run_now:
                await db.execute(update(Job).where(Job.status == "queued")
                                 .values(run_after=utcnow()))
                await db.commit()
            jobs = (await db.execute(select(func.count()).select_from(Job).where(
                Job.status.in_(("queued", "running"))))).scalar_one()
            change = (await db.execute(select(func.max(KbIndexChange.id)))).scalar_one()
            return int(jobs), int(change or 0)
    finally:
        await engine.dispose()


def _settle(desk: BenchDesk, url: str, timeout: float = STARTUP_SECONDS) -> None:
    """Until the start-up jobs are done and the server's index reflects the latest
    change: a job that runs before the first build leaves its rebuild to the next
    search, so searches are asked until the build's log line says so."""
    deadline = time.monotonic() + timeout
    while True:
        jobs, change = asyncio.run(_startup_work(desk.database_url, run_now=False))
        if not jobs and f"change={change} " in server_log_tail(desk, 100_000) + " ":
            return
        if time.monotonic() > deadline:
            raise BenchSetupError(f"the desk's start-up work did not finish in {timeout:.0f} s")
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{url}/api/v1/help/suggest", params={"q": "deposit"}, timeout=30)
        time.sleep(1.0)


@contextlib.contextmanager
def own_server(db: str, agents: int) -> Iterator[Target]:
    """A throw-away desk with `agents` relay agents, served by one uvicorn process that
    has run the desk's start-up jobs."""
    with bench_desk(db, jobs_in_process=True) as desk:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        desk = dataclasses.replace(desk, env={**desk.env, **server_settings(url)})
        made = asyncio.run(create_agents(desk.database_url, agents)) if agents else ()
        asyncio.run(_startup_work(desk.database_url, run_now=True))
        with server_process(desk, workers=1, port=port) as server:
            _settle(desk, server.url)
            try:
                yield Target(url=server.url, server_pid=server.pid, agents=made,
                             database_url=desk.database_url)
            except BaseException:
                console.print(f"the server's log ends:\n{server_log_tail(desk, 60)}")
                raise


def read_agents_file(path: Path) -> tuple[tuple[str, str], ...]:
    """`email password` per line: agents of the api team on a desk this run did not make."""
    rows = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            email, _, password = line.strip().partition(" ")
            rows.append((email, password.strip()))
    return tuple(rows)


# Running and reporting ------------------------------------------------------------------


class Meter:
    """CPU used while driving: the server's process tree, this process, the machine."""

    def __init__(self, server_pid: int | None) -> None:
        self.pid = server_pid
        self.start: tuple[float | None, float, tuple[int, int] | None] = (None, 0.0, None)
        self.figures: dict[str, Any] = {}

    def __call__(self, starting: bool) -> None:
        server = process_tree_cpu(self.pid) if self.pid else None
        times = os.times()
        own, ticks = times.user + times.system, _machine_ticks()
        if starting:
            self.start = (server, own, ticks)
            return
        server0, own0, ticks0 = self.start
        self.figures["client_cpu_s"] = round(own - own0, 1)
        if server is not None and server0 is not None:
            self.figures["server_cpu_s"] = round(server - server0, 1)
        if ticks and ticks0 and ticks[1] > ticks0[1]:
            self.figures["machine_busy_pct"] = round(
                100 * (ticks[0] - ticks0[0]) / (ticks[1] - ticks0[1]), 1)


def figures(load: ChatLoad, phases: Phases, meter: Meter) -> dict[str, Any]:
    tally, config = load.tally, load.config
    stream = sum(c.missing() for c in load.customers)
    to_agent = load.relay.undelivered()
    to_customer = sum(c.replies_missing() for c in load.customers)
    peak = _status_kb(load.target.server_pid, "VmHWM") if load.target.server_pid else None
    drive_s = phases.drive_s
    sent = tally.bot_asked + tally.relay_sent + tally.agent_replies
    for sample in tally.samples:
        console.print(f"[yellow]note:[/yellow] {sample}")
    return {
        "connections": phases.held, "connections_asked": config.connections,
        "msgs_per_s": round(sent / drive_s, 1),
        "bot_reply_p50_ms": _ms(percentile(tally.bot_latencies, 50)),
        "bot_reply_p99_ms": _ms(percentile(tally.bot_latencies, 99)),
        "relay_p50_ms": _ms(percentile(tally.relay_latencies, 50)),
        "relay_p99_ms": _ms(percentile(tally.relay_latencies, 99)),
        "lost": stream + to_agent + to_customer,
        "duplicated": sum(tally.duplicated.values()),
        "rss_mb": round(peak / 1024) if peak else None,
        # what the headline figures are made of
        "lost_customer_stream": stream, "lost_to_agent": to_agent,
        "lost_to_customer": to_customer, "duplicated_by_kind": tally.duplicated,
        "bot_unanswered": sum(c.waiting is not None for c in load.customers),
        "bot_questions": tally.bot_asked, "bot_replies_timed": len(tally.bot_latencies),
        "bot_untimed": tally.bot_untimed, "bot_skipped": tally.bot_skipped,
        "bot_handovers": tally.handovers, "relay_messages": tally.relay_sent,
        "relay_timed": len(tally.relay_latencies), "relay_untimed": tally.relay_untimed,
        "relay_caught_up": tally.relay_caught_up, "agent_reconnects": tally.agent_reconnects,
        "relay_skipped": tally.relay_skipped, "agent_replies": tally.agent_replies,
        "message_frames_per_s": round(phases.drive_frames[0] / drive_s, 1),
        "chat_frames_per_s": round(phases.drive_frames[1] / drive_s, 1),
        "drops": tally.drops, "unplanned_closes": tally.unplanned_closes,
        "close_codes": tally.close_codes, "reconnect_failures": tally.reconnect_failures,
        "ramp_failures": tally.ramp_failures, "error_frames": tally.error_frames,
        "agent_reloads": tally.agent_reloads, "handoff_errors": tally.handoff_errors,
        "agents": len(load.agents), "agent_setup": load.agent_setup,
        "relay_chats": sum(c.relay for c in load.customers),
        "client_rss_mb": round((_status_kb(os.getpid(), "VmHWM") or 0) / 1024),
        "client_processes": 1, **meter.figures,
        "ramp_s": round(phases.ramp_s, 1), "drive_s": round(drive_s, 1),
        "drain_s": round(phases.drain_s, 1),
        # the run's parameters
        "seconds": config.seconds, "bot_rate": config.bot_rate,
        "relay_rate": config.relay_rate, "drop_share": config.drop_share,
        "agent_reply_share": config.agent_reply_share, "ramp_rate": config.ramp_rate,
        "deflate": config.deflate, "seed": config.seed,
    }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def agents_needed(config: ChatBenchConfig) -> int:
    return -(-config.relay_chats // CHATS_PER_AGENT)


def normalised(config: ChatBenchConfig) -> ChatBenchConfig:
    """At most half the connections are agents' chats; none without a relay rate."""
    relay_chats = min(config.relay_chats, config.connections // 2)
    return dataclasses.replace(config, relay_chats=relay_chats if config.relay_rate > 0 else 0)


def measure(target: Target, config: ChatBenchConfig) -> dict[str, Any]:
    questions = sample_questions(max(2000, int(config.bot_rate * config.seconds) + 100),
                                 config.seed)
    meter = Meter(target.server_pid)
    load = ChatLoad(target, config, questions, on_drive=meter)

    async def run() -> dict[str, Any]:
        return figures(load, await load.run(), meter)

    return asyncio.run(run())


def run_chat_bench(config: ChatBenchConfig, *, url: str = "", db: str = "sqlite",
                   agents_file: Path | None = None, server_pid: int | None = None
                   ) -> dict[str, Any]:
    loadavg_start = [round(x, 2) for x in os.getloadavg()]
    config = normalised(config)
    agents = agents_needed(config)
    raise_open_files(config.connections + agents + 256)
    if url:
        listed = read_agents_file(agents_file) if agents_file else ()
        if len(listed) < agents:
            console.print(f"[yellow]{agents} agents needed for {config.relay_chats} relay "
                          f"chats, {len(listed)} given (--agents-file): no relay[/yellow]")
            config = dataclasses.replace(config, relay_chats=0, relay_rate=0.0)
        result = measure(Target(url=url, server_pid=server_pid, agents=listed[:agents]), config)
    else:
        with own_server(db, agents) as target:
            result = measure(target, config)
    result["db"] = db if not url else None
    result["loadavg_start"] = loadavg_start
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))
    return result
