"""`kefu run --workers N` (kefu.web.serve): a listening socket per worker process, so the
kernel spreads connections over them; SIGTERM stops them all."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kefu.bench.processes import members, process_group
from kefu.bench.server import free_port

PREPARE = """
import asyncio
from kefu.core.db import make_engine, make_session_factory
from kefu.core.settings import Settings
from kefu.web.bootstrap import prepare
settings = Settings()
engine = make_engine(settings.database_url)
asyncio.run(prepare(engine, make_session_factory(engine), settings))
"""


def _listening_sockets(port: int) -> int:
    out = subprocess.run(["ss", "-ltnH", f"( sport = :{port} )"], capture_output=True,
                         text=True, check=True).stdout
    return len([line for line in out.splitlines() if line.strip()])


def test_two_workers_listen_on_sockets_of_their_own(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update({"KEFU_DATA_DIR": str(tmp_path), "KEFU_ENVIRONMENT": "test",
                "KEFU_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}"})
    # Migrated and seeded first, as `kefu run` does before it starts the workers: two
    # workers seeding an empty database at once would race on the same rows.
    subprocess.run([sys.executable, "-c", PREPARE], env=env, check=True, cwd=tmp_path,
                   capture_output=True)
    port = free_port()
    cmd = [sys.executable, "-m", "kefu.web.serve", "--workers", "2", "--port", str(port),
           "--no-access-log"]
    # The group is stopped whatever happens; the test also wants SIGTERM to the parent
    # alone to stop its workers cleanly.
    with process_group(cmd, env=env, cwd=tmp_path, output=subprocess.DEVNULL) as server:
        deadline = time.monotonic() + 60
        while _listening_sockets(port) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _listening_sockets(port) == 2
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert answer.json() == {"status": "ok"}
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not [pid for pid in members(server.pid) if pid != server.pid]
    assert _listening_sockets(port) == 0
