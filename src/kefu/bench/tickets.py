"""`kefu bench tickets`: create tickets through the HTTP API with N concurrent clients.

Without --url it builds its own desk (fresh SQLite file or PostgreSQL database, migrated
and seeded by the app's bootstrap, a tickets:read+write token for the demo admin) and
runs `uvicorn kefu.web.asgi:app` as a subprocess. A warm-up is sent first and not
counted; then the measured phase. Progress goes to stderr; the figures go to stdout as
one JSON object on the last line.

The load generator runs in this process, on the same machine as the server (and the
database): its CPU use is reported as `client_cpu_s` so that the figures can be read
honestly. SQLite is served by a single worker process: it has one writer at a time, so
more processes only add lock waits (measured: slower, with busy-timeouts under load).
"""

import asyncio
import json
import os
import random
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kefu.bench.load import Outcome, encode_bodies, percentile, run_phase
from kefu.bench.server import (
    BenchSetupError,
    bench_desk,
    named_processes_cpu,
    process_tree_cpu,
    server_log_tail,
    server_process,
)

DEFAULT_WARMUP = 100
# SQLite has one writer at a time; see the module docstring for why one worker serves it.
SQLITE_MAX_WORKERS = 1


class _CpuMeter:
    """CPU seconds of this process, of the server tree, of the local PostgreSQL backends
    and of the whole machine."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.start = self._read()

    def _read(self) -> tuple[float, float | None, float | None, tuple[int, int] | None]:
        times = os.times()
        server = process_tree_cpu(self.server_pid) if self.server_pid else None
        return (times.user + times.system, server, named_processes_cpu("postgres"),
                _machine_ticks())

    def stop(self) -> dict[str, Any]:
        end = self._read()
        out: dict[str, Any] = {"client_cpu_s": round(end[0] - self.start[0], 2)}
        if end[1] is not None and self.start[1] is not None:
            out["server_cpu_s"] = round(end[1] - self.start[1], 2)
        if end[2] is not None and self.start[2] is not None and end[2] > self.start[2]:
            out["postgres_cpu_s"] = round(end[2] - self.start[2], 2)
        if end[3] is not None and self.start[3] is not None:
            busy, total = end[3][0] - self.start[3][0], end[3][1] - self.start[3][1]
            out["machine_busy_pct"] = round(100 * busy / total, 1) if total else None
        return out


def _machine_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies over all CPUs from /proc/stat; None off Linux."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    values = [int(x) for x in first]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def _figures(outcome: Outcome, requests: int) -> dict[str, Any]:
    ok = len(outcome.latencies)
    return {
        "creates_per_s": round(ok / outcome.wall, 1) if outcome.wall else 0.0,
        "p50_ms": round(percentile(outcome.latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(outcome.latencies, 99) * 1000, 2),
        "requests": requests,
        "errors": outcome.errors,
        "wall_s": round(outcome.wall, 3),
    }


async def _measure(url: str, token: str, clients: int, requests: int, warmup: int,
                   client: str, progress: Progress, server_pid: int | None,
                   categories: Sequence[str] | None) -> tuple[Outcome, Outcome, dict[str, Any]]:
    run = secrets.token_hex(3)
    seed = random.SystemRandom().randrange(2**32)
    warm_bodies = encode_bodies(0, warmup, seed, run, categories)
    bodies = encode_bodies(warmup, requests, seed + 1, run, categories)

    def advance(task: Any) -> Callable[[], None]:
        return lambda: progress.advance(task)

    warm_task = progress.add_task("warm-up", total=warmup)
    warm = await run_phase(url, token, warm_bodies, clients, client=client,
                           on_done=advance(warm_task))
    task = progress.add_task("creating tickets", total=requests)
    meter = _CpuMeter(server_pid)
    measured = await run_phase(url, token, bodies, clients, client=client,
                               on_done=advance(task))
    return warm, measured, meter.stop()


def _event_loop_runner() -> Callable[[Any], Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def run_bench(*, url: str, db: str, clients: int, requests: int, server_workers: int,
              token: str, warmup: int = DEFAULT_WARMUP, client: str = "raw",
              jobs_in_process: bool = False,
              categories: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print progress on stderr and the JSON figures last on stdout.

    `client` is "raw" (lean asyncio streams) or "httpx"; `jobs_in_process` runs the
    outbox job runner inside the web workers (the embedded default of `kefu run`)
    instead of leaving the queued notification emails to separate `kefu worker`s.
    `categories` narrows the realistic category mix (default: all, weighted).
    """
    err = Console(stderr=True)
    if clients < 1 or requests < 1 or server_workers < 1:
        err.print("[red]--clients, --requests and --server-workers must be at least 1[/red]")
        raise SystemExit(2)
    if client not in ("raw", "httpx"):
        raise SystemExit(f"unknown client {client!r}")
    workers = server_workers
    if not url and db == "sqlite" and workers > SQLITE_MAX_WORKERS:
        err.print(f"[yellow]SQLite has a single writer: serving it with "
                  f"{SQLITE_MAX_WORKERS} worker(s), not {workers}[/yellow]")
        workers = SQLITE_MAX_WORKERS
    if url and not token:
        err.print("[red]--url needs --token (an API token with tickets:write)[/red]")
        raise SystemExit(2)
    settings = {"db": db, "clients": clients, "server_workers": workers, "client": client,
                "jobs_in_process": jobs_in_process, "warmup": warmup}
    err.print(f"kefu bench tickets: {json.dumps(settings)}")
    run = _event_loop_runner()

    def go(target: str, bearer: str, pid: int | None) -> dict[str, Any]:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=False) as progress:
            warm, measured, cpu = run(_measure(target, bearer, clients, requests, warmup,
                                               client, progress, pid, categories))
        for sample in warm.samples + measured.samples:
            err.print(f"[red]error:[/red] {sample}")
        if warm.errors:
            err.print(f"[yellow]{warm.errors} errors during the warm-up (not counted)[/yellow]")
        ok = len(measured.latencies)
        if "server_cpu_s" in cpu and ok:
            # CPU the web workers spent per create: robust to other load on the machine.
            cpu["server_cpu_ms_per_create"] = round(cpu["server_cpu_s"] * 1000 / ok, 2)
        return {**_figures(measured, requests), **cpu}

    try:
        if url:
            figures = go(url.rstrip("/"), token, None)
        else:
            with bench_desk(db, jobs_in_process=jobs_in_process) as desk:
                err.print(f"database ready: {desk.database_url}")
                with server_process(desk, workers=workers) as server:
                    err.print(f"server ready: {server.url} ({workers} worker(s))")
                    figures = go(server.url, desk.token, server.pid)
                if figures["errors"]:
                    err.print(server_log_tail(desk))
    except BenchSetupError as exc:
        err.print(f"[red]{exc}[/red]")
        raise SystemExit(1) from exc
    result = {
        "creates_per_s": figures["creates_per_s"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "db": db,
        "clients": clients,
        "requests": requests,
        "errors": figures["errors"],
        "server_workers": workers,
        **{k: v for k, v in figures.items() if k not in ("creates_per_s", "p50_ms", "p99_ms",
                                                         "requests", "errors")},
        "client": client,
        "jobs_in_process": jobs_in_process,
        "cpus": os.cpu_count(),
    }
    sys.stdout.flush()
    print(json.dumps(result), flush=True)
    return result
