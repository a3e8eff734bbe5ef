"""Fixtures for browser tests: a real Kefu server (uvicorn subprocess) and Debian's Chromium.

Playwright never downloads a browser here; it drives the system Chromium at CHROMIUM.
Every server starts through `e2e_support.kefu_process` (its own process group, stopped
whole when the test ends, also when it fails); tests/conftest.py ends the session with
a check that none is left running.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from .e2e_support import Server, ServerFailed, kefu_process

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end test in a real browser and server")


@pytest.fixture
def kefu_server(tmp_path: Path) -> Iterator[Server]:
    try:
        with kefu_process(tmp_path) as server:
            yield server
    except ServerFailed as exc:
        pytest.fail(str(exc))


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
