"""Every process a test starts is stopped when the test ends, also when it fails: the
server, and whatever it forked, as one process group (kefu.bench.processes)."""

import os
import socket
import sys
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
