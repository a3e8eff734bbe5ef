"""`kefu bench email`: mail through the SMTP receiver into tickets, end to end.

It builds a throw-away desk (`bench_desk`), a mailbox, and runs `kefu mail-receiver` and
`--workers` `kefu worker` processes. The load is a mix: every fixture message of
../shared/data/email_fixtures (real clients' replies, MIME oddities, bounces), new mail
in Chinese and English, and replies to earlier ones (In-Reply-To). Each message gets a
Message-ID and sender of its own, so nothing is a duplicate by accident. `--connections`
SMTP clients send in parallel, each on one connection.

Measured from the database: a message is done when its raw row leaves `received`
(processed, ignored or failed, all final); ingest-to-ticket is that row's processed_at
minus received_at. `lost` = messages the receiver acknowledged (250) with no final row
by the end, plus acknowledged ones with no row at all. With `--kill-worker`, a worker
is killed with SIGKILL halfway and a new one started: its claimed job waits out the job
lease (`kefu.core.jobs.LEASE`), so the run waits for it.
"""

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiosmtplib
from rich.console import Console

from kefu.bench.load import percentile
from kefu.bench.server import BenchDesk, bench_desk, free_port
from kefu.channels.email.evaluate import NOT_MESSAGES

console = Console(stderr=True)
SUBJECTS = ("充值未到账 USDT", "提现失败", "[紧急] 账户被盗", "Deposit not credited",
            "Withdrawal pending for 3 hours", "[URGENT] account hacked", "KYC 审核多久",
            "API key question")


def _kefu(*args: str) -> list[str]:
    return [sys.executable, "-c", "from kefu.cli import main; main()", *args]


def _start(desk: BenchDesk, log: Any, *args: str) -> "subprocess.Popen[bytes]":
    # Our own interpreter and fixed arguments: nothing here comes from outside.
    return subprocess.Popen(_kefu(*args), env=desk.env, stdout=log, stderr=log)  # noqa: S603


def corpus(fixtures: Path, total: int, domain: str, address: str) -> list[bytes]:
    """`total` messages: fixtures, new mail and replies in turn, each with its own ids."""
    samples = [p.read_bytes() for p in sorted(fixtures.rglob("*"))
               if p.is_file() and p.name not in NOT_MESSAGES
               and (p.suffix in (".eml", ".txt", ".mbox") or "cpython" in str(p))]
    rng = random.Random(7)  # noqa: S311 (reproducible ids for a benchmark, not secrets)
    out: list[bytes] = []
    sent_ids: list[tuple[str, str]] = []
    for n in range(total):
        sender = f"trader{n}@{domain}"
        message_id = f"bench.{n}.{rng.getrandbits(40):x}@{domain}"
        head = f"Message-ID: <{message_id}>\r\nFrom: Trader {n} <{sender}>\r\nTo: {address}\r\n"
        kind = n % 3
        if kind == 0 and samples:
            body = samples[(n // 3) % len(samples)]
            out.append(head.encode() + body)
            continue
        if kind == 2 and sent_ids:
            parent_sender, parent_id = sent_ids[rng.randrange(len(sent_ids))]
            head = (f"Message-ID: <{message_id}>\r\nFrom: {parent_sender}\r\nTo: {address}\r\n"
                    f"In-Reply-To: <{parent_id}>\r\nReferences: <{parent_id}>\r\n")
            subject, text = "Re: update", "Any news?\r\n\r\nOn Sun wrote:\r\n> earlier\r\n"
        else:
            subject = SUBJECTS[n % len(SUBJECTS)]
            text = f"Order {n}: my transfer of {n % 997} USDT has not arrived.\r\n"
            sent_ids.append((sender, message_id))
        mail = (head + f"Subject: {subject}\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit"
                f"\r\n\r\n{text}")
        out.append(mail.encode())
    return out


async def _send_all(port: int, address: str, messages: list[bytes], connections: int,
                    on_half: Any) -> int:
    """Send every message; returns how many the receiver acknowledged."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for item in messages:
        queue.put_nowait(item)
    acknowledged = 0
    half = len(messages) // 2

    async def client() -> None:
        nonlocal acknowledged
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
        await smtp.connect()
        try:
            while not queue.empty():
                data = queue.get_nowait()
                try:
                    await smtp.sendmail("bench@sender.example", [address], data)
                    acknowledged += 1
                except aiosmtplib.SMTPResponseException as exc:
                    console.print(f"refused: {exc.code} {exc.message}")
                if acknowledged == half:
                    on_half()
        finally:
            await smtp.quit()

    await asyncio.gather(*(client() for _ in range(connections)))
    return acknowledged


async def _setup_mailbox(desk: BenchDesk, address: str) -> None:
    from sqlalchemy import select

    from kefu.accounts.models import Agent
    from kefu.channels.email.mailboxes import create_mailbox
    from kefu.core.db import make_engine, make_session_factory

    engine = make_engine(desk.database_url)
    try:
        async with make_session_factory(engine)() as db:
            admin = (await db.execute(select(Agent).limit(1))).scalar_one()
            await create_mailbox(db=db, actor=admin, address=address, name="Bench",
                                 team_id=None, category="other", priority="normal")
            await db.commit()
    finally:
        await engine.dispose()


async def _final_rows(desk: BenchDesk, expected: int, wait_s: float
                      ) -> tuple[list[tuple[str, float]], float]:
    """Wait until `expected` rows are final (or timeout); their status and latency (ms),
    and when the last one finished (monotonic-ish: time.time())."""
    from sqlalchemy import func, select

    from kefu.channels.email.models import RawEmail, RawStatus
    from kefu.core.db import make_engine, make_session_factory

    engine = make_engine(desk.database_url)
    deadline = time.time() + wait_s
    try:
        factory = make_session_factory(engine)
        while True:
            async with factory() as db:
                done = (await db.execute(select(func.count()).select_from(RawEmail).where(
                    RawEmail.status != RawStatus.RECEIVED))).scalar_one()
            if done >= expected or time.time() > deadline:
                break
            await asyncio.sleep(0.2)
        async with factory() as db:
            rows = (await db.execute(select(RawEmail.status, RawEmail.received_at,
                                            RawEmail.processed_at))).all()
    finally:
        await engine.dispose()
    out = [(status, (done_at - got).total_seconds() * 1000 if done_at else -1.0)
           for status, got, done_at in rows]
    last = max((d.timestamp() for _, _, d in rows if d is not None), default=time.time())
    return out, last


def run_email_bench(*, db: str, messages: int, connections: int, workers: int,
                    kill_worker: bool, fixtures: Path) -> dict[str, Any]:
    with bench_desk(db, jobs_in_process=False) as desk:
        address = "support@bench.example"
        asyncio.run(_setup_mailbox(desk, address))
        mails = corpus(fixtures, messages, "mail.example", address)
        log = open(desk.data_dir / "bench.log", "ab")  # noqa: SIM115 (closed below)
        port = free_port()
        receiver = _start(desk, log, "mail-receiver", "--port", str(port))
        pool = [_start(desk, log, "worker") for _ in range(workers)]
        killed: list[int] = []

        def on_half() -> None:
            if kill_worker and not killed:
                os.kill(pool[0].pid, signal.SIGKILL)
                killed.append(pool[0].pid)
                pool[0] = _start(desk, log, "worker")
                console.print("killed a worker with SIGKILL; started another")

        try:
            _wait_port(port)
            started = time.time()
            console.print(f"sending {messages} messages over {connections} connections")
            acknowledged = asyncio.run(_send_all(port, address, mails, connections, on_half))
            sent_s = time.time() - started
            wait = 600.0 if kill_worker else 180.0
            rows, last = asyncio.run(_final_rows(desk, acknowledged, wait))
        finally:
            for proc in [receiver, *pool]:
                proc.terminate()
            for proc in [receiver, *pool]:
                proc.wait(timeout=30)
            log.close()
    final = [ms for status, ms in rows if status != "received"]
    statuses: dict[str, int] = {}
    for status, _ in rows:
        statuses[status] = statuses.get(status, 0) + 1
    elapsed = max(last - started, 1e-6)
    return {
        "db": db, "messages": messages, "acknowledged": acknowledged,
        "connections": connections, "workers": workers, "kill_worker": kill_worker,
        "statuses": statuses, "send_s": round(sent_s, 2),
        "msgs_per_s": round(len(final) / elapsed, 1),
        "p50_ingest_to_ticket_ms": round(percentile(final, 50), 1),
        "p99_ingest_to_ticket_ms": round(percentile(final, 99), 1),
        "lost": acknowledged - len(final),
    }


def _wait_port(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the mail receiver did not start")


def print_result(result: dict[str, Any]) -> None:
    print(json.dumps(result))
