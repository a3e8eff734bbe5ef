"""Helpers shared by the e2e conftest and tests, and by the live-console tests: a real
Kefu server (uvicorn subprocess, stopped with its whole process group), and a reader
for its Server-Sent Events."""

import contextlib
import json
import os
import queue
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kefu.bench.processes import process_group

# Normally ~3 s; generous because migrations, demo seeding and the help-centre index run
# at start-up and a busy CI box can be slow.
STARTUP_SECONDS = 60


@dataclass(frozen=True)
class Server:
    base_url: str
    data_dir: Path
    log: Path
    pid: int = 0  # the process group's id

    def demo_password(self, email: str) -> str:
        for line in (self.data_dir / "demo-logins.txt").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == email:
                return parts[1]
        raise LookupError(f"{email} is not in demo-logins.txt")


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def kefu_process(workdir: Path, *, data_dir: Path | None = None,
                 env: Mapping[str, str] | None = None, port: int | None = None,
                 base_url: str | None = None) -> Iterator[Server]:
    """`uvicorn kefu.web.asgi:app` on a free port until the block ends (also by an
    exception): the server and everything it forked are stopped as one process group.
    Without KEFU_DATABASE_URL in `env`, the default SQLite file in the data folder."""
    port = port or free_port()
    base_url = base_url or f"http://127.0.0.1:{port}"
    data_dir = data_dir or workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"server-{port}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    full_env.update({"KEFU_DATA_DIR": str(data_dir), "KEFU_ENVIRONMENT": "test",
                     "KEFU_BASE_URL": base_url, "KEFU_SEED_DEMO": "true"})
    full_env.update(env or {})
    cmd = [sys.executable, "-m", "uvicorn", "kefu.web.asgi:app", "--host", "127.0.0.1",
           "--port", str(port), "--timeout-graceful-shutdown", "5"]
    with log.open("wb") as out, process_group(cmd, env=full_env, cwd=workdir,
                                              output=out) as proc:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(f"{base_url}/healthz"):
            if proc.poll() is not None:
                raise ServerFailed(f"Kefu exited with {proc.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise ServerFailed(f"Kefu not healthy after {STARTUP_SECONDS}s:\n"
                                   f"{log.read_text()}")
            time.sleep(0.1)
        yield Server(base_url=base_url, data_dir=data_dir, log=log, pid=proc.pid)


def signed_in(server: Server, email: str, password: str | None = None) -> httpx.Client:
    """An httpx client holding a console session."""
    client = httpx.Client(base_url=server.base_url, timeout=30)
    response = client.post("/console/login", data={
        "email": email, "password": password or server.demo_password(email)})
    assert response.status_code == 303, response.text
    return client


@dataclass
class Frame:
    id: int | None
    event: str
    data: dict[str, object] = field(default_factory=dict)


class EventStream:
    """Reads a text/event-stream on a thread; frames arrive on `frames`."""

    def __init__(self, signed: httpx.Client, url: str,
                 headers: Mapping[str, str] | None = None) -> None:
        # A client of its own, so that closing it ends the read at once.
        client = httpx.Client(base_url=signed.base_url, cookies=signed.cookies)
        self._client = client
        self.frames: queue.Queue[Frame] = queue.Queue()
        self.status: int | None = None
        self._opened = threading.Event()
        self._closed = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._read, args=(client, url, dict(headers or {})),
                                        daemon=True)
        self._thread.start()
        assert self._opened.wait(30), "the stream did not answer"

    def _read(self, client: httpx.Client, url: str, headers: dict[str, str]) -> None:
        try:
            with client.stream("GET", url, headers=headers,
                               timeout=httpx.Timeout(30, read=None)) as response:
                self._response = response
                self.status = response.status_code
                self._opened.set()
                if response.status_code != 200:
                    return
                frame: dict[str, str] = {}
                for line in response.iter_lines():
                    if self._closed.is_set():
                        return
                    if line == "":
                        if "data" in frame:
                            self.frames.put(Frame(
                                int(frame["id"]) if frame.get("id") else None,
                                frame.get("event", "message"), json.loads(frame["data"])))
                        frame = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        frame[name] = value.removeprefix(" ")
        except (httpx.HTTPError, RuntimeError):
            pass
        finally:
            self._opened.set()

    @property
    def ended(self) -> bool:
        """The server closed the stream (or it was refused)."""
        return not self._thread.is_alive()

    def next(self, timeout: float = 10.0) -> Frame:
        return self.frames.get(timeout=timeout)

    def until(self, predicate: Callable[[Frame], bool], timeout: float = 10.0) -> list[Frame]:
        """Frames read until one matches (included); fails after `timeout` seconds."""
        got: list[Frame] = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event in {timeout}s; got {got}")
            try:
                frame = self.frames.get(timeout=left)
            except queue.Empty:
                continue
            got.append(frame)
            if predicate(frame):
                return got

    def drain(self, quiet: float = 1.0) -> list[Frame]:
        """Frames that arrive until none has for `quiet` seconds."""
        got = []
        while True:
            try:
                got.append(self.frames.get(timeout=quiet))
            except queue.Empty:
                return got

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(Exception):
            self._client.close()
        self._thread.join(timeout=5)
