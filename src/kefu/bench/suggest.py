"""`kefu bench suggest`: the help-centre suggest API under concurrent load, over HTTP.

What the chat bot will ask of search: many different questions at once. The server is
started as `kefu run` starts it (the demo help centre, SQLite by default), then questions
arrive open-loop at a fixed rate (each on its own schedule, not waiting for the previous
answer, as customers do), or closed-loop as fast as N clients can ask (`--rate 0`).
Each question is asked once (Banking77 test and AFQMC sentences), so no cache helps.
"""

import asyncio
import json
import os
import time
from typing import Any

import httpx
from rich.console import Console

from kefu.bench.search import _distinct_queries
from kefu.bench.server import bench_desk, process_tree_cpu, server_process
from kefu.bench.tickets import _machine_ticks

PATH = "/api/v1/help/suggest"


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] if ordered else 0.0


async def _ask(client: httpx.AsyncClient, question: str, latencies: list[float],
               errors: list[str]) -> None:
    start = time.perf_counter()
    try:
        response = await client.get(PATH, params={"q": question})
        if response.status_code != 200 or "results" not in response.json():
            errors.append(f"{response.status_code} {response.text[:120]}")
            return
    except httpx.HTTPError as exc:
        errors.append(repr(exc)[:160])
        return
    latencies.append(time.perf_counter() - start)


async def _open_loop(client: httpx.AsyncClient, questions: list[str], rate: float,
                     latencies: list[float], errors: list[str]) -> None:
    start = time.perf_counter()
    tasks = []
    for i, question in enumerate(questions):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_ask(client, question, latencies, errors)))
    await asyncio.gather(*tasks)


async def _closed_loop(client: httpx.AsyncClient, questions: list[str], clients: int,
                       latencies: list[float], errors: list[str]) -> None:
    queue = list(reversed(questions))

    async def one_client() -> None:
        while queue:
            await _ask(client, queue.pop(), latencies, errors)

    await asyncio.gather(*(one_client() for _ in range(clients)))


async def _measure(url: str, questions: list[str], rate: float, clients: int,
                   pid: int | None) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:
        await _closed_loop(client, questions[:20], 4, [], [])  # warm-up: connections, code
        cpu_before = process_tree_cpu(pid) if pid else None
        ticks_before, started, own_before = _machine_ticks(), time.perf_counter(), _own_cpu()
        if rate > 0:
            await _open_loop(client, questions, rate, latencies, errors)
        else:
            await _closed_loop(client, questions, clients, latencies, errors)
        wall = time.perf_counter() - started
        cpu_after, ticks_after = (process_tree_cpu(pid) if pid else None), _machine_ticks()
    figures: dict[str, Any] = {
        "rate": rate, "clients": clients, "questions": len(questions),
        "answered": len(latencies), "errors": len(errors),
        "questions_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 99) * 1000, 1), "wall_s": round(wall, 2),
        "client_cpu_s": round(_own_cpu() - own_before, 2)}
    if cpu_before is not None and cpu_after is not None and latencies:
        figures["server_cpu_ms_per_question"] = round(
            (cpu_after - cpu_before) * 1000 / len(latencies), 2)
    if ticks_before and ticks_after and ticks_after[1] > ticks_before[1]:
        busy = ticks_after[0] - ticks_before[0]
        figures["machine_busy_pct"] = round(100 * busy / (ticks_after[1] - ticks_before[1]), 1)
    for sample in errors[:5]:
        Console(stderr=True).print(f"[red]error:[/red] {sample}")
    return figures


def run_suggest_bench(*, url: str = "", rate: float = 100.0, seconds: float = 10.0,
                      clients: int = 64, server_workers: int = 1) -> dict[str, Any]:
    questions = _distinct_queries(10_000)
    count = int(rate * seconds) if rate > 0 else min(len(questions), 1000)
    if not questions:
        raise SystemExit("no questions: ../shared/data (banking77, afqmc) is missing")
    questions = (questions * (count // len(questions) + 1))[:count]
    if url:
        figures = asyncio.run(_measure(url.rstrip("/"), questions, rate, clients, None))
    else:
        with bench_desk("sqlite", jobs_in_process=False) as desk, \
                server_process(desk, workers=server_workers) as server:
            figures = asyncio.run(_measure(server.url, questions, rate, clients, server.pid))
    figures["server_workers"] = server_workers if not url else None
    print(json.dumps(figures))
    return figures
