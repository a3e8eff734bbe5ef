"""Starting a server (or any helper process) so that it is always stopped again.

Every process a test or a benchmark starts goes through `process_group`: it runs in a
process group of its own (`start_new_session`), and when the block ends, normally or
by an exception, the WHOLE group is stopped: SIGTERM, a wait, then SIGKILL. A uvicorn
server forks helpers (the help-centre index, the embedder's pool) and a multi-worker
server has a process per worker; stopping only the parent left those running.

`leftovers()` lists the groups started here that are still alive; the test suite
checks it is empty when it finishes.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

STOP_SECONDS = 10.0  # for a graceful stop (uvicorn finishes the requests in flight)
PR_SET_PDEATHSIG = 1  # linux/prctl.h

_started: set[int] = set()  # process group ids started here and not yet stopped


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs. Zombies do not count: an orphaned
    helper that was killed waits for PID 1 to reap it, which in a container may never
    happen, but it holds no port, memory or CPU."""
    if Path("/proc").is_dir():
        return bool(members(pgid))
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def members(pgid: int) -> list[int]:
    """Live (not zombie) processes of the group, from /proc; empty off Linux."""
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            fields = stat.rpartition(")")[2].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def stop_group(proc: "subprocess.Popen[Any]", timeout: float = STOP_SECONDS) -> None:
    """SIGTERM to the group, wait up to `timeout` for all of it, then SIGKILL; reaped."""
    pgid = proc.pid  # a session leader's group id is its pid
    try:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc.poll()  # reaps the leader once it exits
            if proc.returncode is not None and not members(pgid):
                break
            time.sleep(0.05)
    finally:
        # Also when the wait above is interrupted (a test's timeout firing during its
        # teardown left servers running before): whatever is left, helpers included.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        _started.discard(pgid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


@contextlib.contextmanager
def process_group(cmd: Sequence[str], *, env: Mapping[str, str] | None = None,
                  cwd: Path | str | None = None, output: IO[bytes] | int | None = None,
                  stop_timeout: float = STOP_SECONDS) -> Iterator["subprocess.Popen[bytes]"]:
    """Run `cmd` in a new process group for the duration of the block. Call it from a
    thread that outlives the block (the main one): the child is told to stop when the
    thread that started it ends (PR_SET_PDEATHSIG)."""
    proc = subprocess.Popen(list(cmd), env=dict(env) if env is not None else None,  # noqa: S603
                            cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=_die_with_parent)
    _started.add(proc.pid)
    try:
        yield proc
    finally:
        stop_group(proc, stop_timeout)


def _prctl() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


# Looked up here, not in the child: between fork and exec the child may take no lock
# (the dynamic loader's included) that another thread of the parent might hold.
_PRCTL = _prctl()


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the process that started it dies,
    so a test run killed outright (no `finally` runs) does not leave its servers."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def leftovers() -> list[int]:
    """Groups started by `process_group` whose processes are still alive."""
    return sorted(pgid for pgid in _started if members(pgid))


def kill_leftovers() -> list[int]:
    """SIGKILL every leftover group; returns their ids."""
    left = leftovers()
    for pgid in left:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        _started.discard(pgid)
    return left
