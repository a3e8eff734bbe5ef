"""Every process a test starts is stopped when the test ends, also when it fails: the
server, and whatever it forked, as one process group (kefu.bench.processes)."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kefu.bench import processes

from .e2e_support import kefu_process

# A parent that forks a child, both ignoring SIGTERM's default only where asked: like a
# server whose helper processes outlive it when only the parent is stopped.
FAMILY = """
import os, signal, sys, time
if sys.argv[1] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    time.sleep(300)
    os._exit(0)
print("ready", flush=True)
time.sleep(300)
"""


class Boom(Exception):
    pass


def _wait_ready(log: Path) -> None:
    deadline = time.monotonic() + 10
    while "ready" not in log.read_text():
        assert time.monotonic() < deadline, "the helper did not start"
        time.sleep(0.05)


@pytest.mark.parametrize("kind", ["polite", "stubborn"])
def test_a_failing_test_leaves_no_process_behind(tmp_path: Path, kind: str) -> None:
    log = tmp_path / "out.log"
    pgid = 0
    with pytest.raises(Boom), log.open("wb") as out, processes.process_group(
            [sys.executable, "-c", FAMILY, kind], output=out, stop_timeout=1) as proc:
        pgid = proc.pid
        _wait_ready(log)
        assert len(processes.members(pgid)) == 2  # the parent and the child it forked
        raise Boom()
    assert pgid and not processes.group_alive(pgid)
    assert pgid not in processes.leftovers()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_kefu_server_is_stopped_whole_when_its_test_fails(tmp_path: Path) -> None:
    started = None
    with pytest.raises(Boom), kefu_process(tmp_path) as server:
        started = server
        assert os.getpgid(server.pid) == server.pid  # a group of its own
        raise Boom()
    assert started is not None
    port = int(started.base_url.rsplit(":", 1)[1])
    assert not processes.group_alive(started.pid)
    assert not _listening(port)


def test_a_timeout_firing_during_teardown_still_stops_the_group(tmp_path: Path) -> None:
    """pytest-timeout raises in the middle of whatever runs, a teardown's wait included
    (here SIGUSR1 stands in for its SIGALRM, which stays pytest-timeout's)."""
    log = tmp_path / "out.log"

    def fire(signum: int, frame: object) -> None:
        raise Boom()

    previous = signal.signal(signal.SIGUSR1, fire)
    try:
        with log.open("wb") as out, pytest.raises(Boom), processes.process_group(
                [sys.executable, "-c", FAMILY, "stubborn"], output=out, stop_timeout=60
        ) as proc:
            _wait_ready(log)
            # The group ignores SIGTERM, so stop_group waits; this interrupts the wait.
            threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGUSR1)).start()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert not processes.group_alive(proc.pid)


RUNNER = """
import sys, time
from kefu.bench.processes import process_group
with process_group([sys.executable, "-c", "import time; time.sleep(300)"]) as proc:
    print(proc.pid, flush=True)
    time.sleep(300)
"""


def test_servers_die_with_a_test_run_killed_outright(tmp_path: Path) -> None:
    """No `finally` runs in a process killed with SIGKILL; its servers still stop."""
    runner = subprocess.Popen([sys.executable, "-c", RUNNER], stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert runner.stdout is not None
        child = int(runner.stdout.readline())
        assert processes.group_alive(child)
        runner.kill()
        runner.wait(timeout=10)
        deadline = time.monotonic() + 10
        while processes.group_alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not processes.group_alive(child)
    finally:
        runner.kill()
        runner.wait(timeout=10)
