"""Fixtures for browser tests: a real Kefu server (uvicorn subprocess) and Debian's Chromium.

Playwright never downloads a browser here; it drives the system Chromium at CHROMIUM.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from .e2e_support import Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
]
# Normally ~3 s; generous because migrations, demo seeding and the help-centre index run
# at start-up and a busy CI box can be slow.
STARTUP_SECONDS = 60


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test in a real browser and server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def kefu_server(tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "KEFU_DATA_DIR": str(data_dir),
        "KEFU_ENVIRONMENT": "test",
        "KEFU_BASE_URL": base_url,
        "KEFU_SEED_DEMO": "true",
    }
    env.pop("KEFU_DATABASE_URL", None)  # the default SQLite file inside the data dir
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "kefu.web.asgi:app",
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(f"{base_url}/healthz"):
            if proc.poll() is not None:
                pytest.fail(f"Kefu server exited with {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"Kefu server not healthy after {STARTUP_SECONDS}s:\n{log.read_text()}")
            time.sleep(0.1)
        yield Server(base_url=base_url, data_dir=data_dir, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def chromium_browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium: apt-get install chromium)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)
        try:
            yield launched
        finally:
            launched.close()
