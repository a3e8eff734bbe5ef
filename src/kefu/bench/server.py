"""A throw-away Kefu for a benchmark: a fresh database, an API token, a uvicorn subprocess.

Nothing here touches the desk the user runs: SQLite lives in a temporary folder, and
PostgreSQL gets its own `kefu_bench_<random>` database, dropped again at the end.
"""

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select

from kefu.bench.processes import process_group

PG_ADMIN_DSN = os.environ.get("KEFU_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_EMAIL = "admin@kefu.local"
STARTUP_LINE = "Application startup complete"
# Each worker builds the help-centre index in the background after start-up; measuring
# before that is done would charge seconds of embedding work to ticket creation.
INDEX_LINE = "kb_index_built"


class BenchSetupError(RuntimeError):
    """The benchmark could not build or start its server."""


@dataclass(frozen=True)
class BenchDesk:
    """A prepared database and the token that creates tickets on it."""

    database_url: str
    data_dir: Path
    token: str
    env: dict[str, str]


def _pg_split(dsn: str) -> tuple[str, str]:
    """('postgresql://user@host:port', 'dbname') of an admin DSN."""
    base, _, _name = dsn.rpartition("/")
    return base, _name


async def _create_pg_database() -> str:
    import asyncpg

    name = f"kefu_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_pg_database(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _server_env(database_url: str, data_dir: Path, *, jobs_in_process: bool) -> dict[str, str]:
    # A stray KEFU_ variable must not point the benchmark at a real desk; the pool
    # settings are the server tuning a run may ask for.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KEFU_") or k in ("KEFU_DB_POOL_SIZE", "KEFU_DB_MAX_OVERFLOW")}
    env.update({
        "KEFU_ENVIRONMENT": "production",
        "KEFU_DATABASE_URL": database_url,
        "KEFU_DATA_DIR": str(data_dir),
        "KEFU_SEED_DEMO": "true",
        "KEFU_RUN_JOBS_IN_PROCESS": "true" if jobs_in_process else "false",
        "KEFU_REDIS_URL": "",
        "KEFU_SECRET_KEY": secrets.token_urlsafe(48),
        "KEFU_UID_SIGNING_SECRET": secrets.token_urlsafe(48),
    })
    return env


async def _prepare_and_token(env: dict[str, str]) -> str:
    """Migrate and seed through the app's own bootstrap, then mint a tickets token."""
    from kefu.accounts import service as accounts
    from kefu.accounts.models import Agent
    from kefu.core.db import make_engine, make_session_factory
    from kefu.core.settings import Settings
    from kefu.web.bootstrap import prepare

    settings = Settings(
        environment="production",
        database_url=env["KEFU_DATABASE_URL"],
        data_dir=Path(env["KEFU_DATA_DIR"]),
        seed_demo=True,
        run_jobs_in_process=False,
        secret_key=env["KEFU_SECRET_KEY"],
        uid_signing_secret=env["KEFU_UID_SIGNING_SECRET"],
    )
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        await prepare(engine, factory, settings)
        async with factory() as db:
            admin = (
                await db.execute(select(Agent).where(Agent.email == ADMIN_EMAIL))
            ).scalar_one()
            _row, secret = await accounts.create_api_token(
                db=db, actor=admin, name="bench", scopes=["tickets:read", "tickets:write"])
            await db.commit()
    finally:
        await engine.dispose()
    return secret


@contextlib.contextmanager
def bench_desk(db: str, *, jobs_in_process: bool) -> Iterator[BenchDesk]:
    """A migrated, seeded, empty desk on a database of its own; removed on exit."""
    if db not in ("sqlite", "postgresql"):
        raise BenchSetupError(f"--db must be sqlite or postgresql, not {db!r}")
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as tmp:
        data_dir = Path(tmp)
        pg_name = ""
        if db == "sqlite":
            url = f"sqlite+aiosqlite:///{data_dir / 'kefu.db'}"
        else:
            try:
                pg_name = asyncio.run(_create_pg_database())
            except (OSError, Exception) as exc:
                raise BenchSetupError(f"cannot create a database on {PG_ADMIN_DSN}: {exc}") from exc
            base, _ = _pg_split(PG_ADMIN_DSN)
            url = base.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{pg_name}"
        try:
            env = _server_env(url, data_dir, jobs_in_process=jobs_in_process)
            token = asyncio.run(_prepare_and_token(env))
            yield BenchDesk(database_url=url, data_dir=data_dir, token=token, env=env)
        finally:
            if pg_name:
                asyncio.run(_drop_pg_database(pg_name))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_ready(proc: "subprocess.Popen[bytes]", base_url: str, log: Path, workers: int,
                timeout: float) -> None:
    """Every worker has finished its start-up (its log line) and /healthz answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchSetupError(f"the server exited with {proc.returncode}:\n{_log_tail(log)}")
        tail = _log_tail(log, 20_000)
        if tail.count(STARTUP_LINE) >= workers and tail.count(INDEX_LINE) >= workers:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    raise BenchSetupError(f"the server was not ready after {timeout:.0f} s:\n{_log_tail(log)}")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids += [int(x) for x in (task / "children").read_text().split()]
    return kids


def named_processes_cpu(name: str) -> float | None:
    """CPU seconds of every process called `name` on this machine (e.g. the local
    PostgreSQL's backends), or None off Linux. Backends that exit between two readings
    take their time with them, so this is a lower bound."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        if comm == name:
            fields = stat.rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def process_tree_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by `pid` and its descendants; Linux only."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            if current == pid:
                return None
            continue
        fields = stat.rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
        todo += _children(current)
    return total / ticks


@contextlib.contextmanager
def server_process(desk: BenchDesk, *, workers: int, timeout: float = 120.0,
                   port: int | None = None) -> Iterator[Server]:
    """`python -m kefu.web.serve` (what `kefu run` starts) on `port`, or a free local one
    (a caller that must put the address in the server's settings picks it first)."""
    port = port or free_port()
    log = desk.data_dir / "server.log"
    # As `kefu run` serves (a socket per worker, no proxy headers), without the access log.
    cmd = [sys.executable, "-m", "kefu.web.serve", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--no-access-log"]
    base_url = f"http://127.0.0.1:{port}"
    # cwd is the temporary folder, so a stray .env in the user's folder is not read. The
    # server and its workers are one process group, stopped together whatever happens.
    with log.open("wb") as out, process_group(cmd, env=desk.env, cwd=desk.data_dir,
                                              output=out, stop_timeout=15) as proc:
        _wait_ready(proc, base_url, log, workers, timeout)
        yield Server(url=base_url, pid=proc.pid)


def server_log_tail(desk: BenchDesk, lines: int = 30) -> str:
    return _log_tail(desk.data_dir / "server.log", lines)
