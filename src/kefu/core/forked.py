"""Run one function in a short-lived forked child and bring its result back.

For work whose libraries the long-lived process should never load: the child
imports what it needs, computes, sends its (pickled) result through a pipe and
exits, taking the imported modules and their scratch memory with it. The child
starts as a copy-on-write image of the parent, so its arguments need no pickling.

Keep the function to plain computation: a forked child has only the forking
thread, so anything that waits on another thread of the parent (an executor, a
lock held elsewhere) would hang there.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


class ChildFailed(RuntimeError):
    """The child raised (its traceback is in the message) or died without an answer."""


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def run_forked(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` computed in a forked child; in this process where fork is missing."""
    if not fork_available():
        return function(*args)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    # Not a daemon: daemonic processes may not fork, and a web worker may be one.
    child = context.Process(target=_child, args=(send, function, args))
    child.start()
    send.close()  # the child holds its own copy; EOF here once it exits
    try:
        ok, payload = receive.recv()
    except EOFError:
        child.join()
        raise ChildFailed(f"child exited with code {child.exitcode} before answering") from None
    finally:
        receive.close()
    child.join()
    if not ok:
        raise ChildFailed(payload)
    result: T = payload
    return result


def _child(send: Connection, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        answer: tuple[bool, Any] = (True, function(*args))
    except BaseException:  # every failure goes back to the parent
        answer = (False, traceback.format_exc())
    try:
        try:
            send.send(answer)
        except Exception:  # e.g. a result that cannot be pickled
            send.send((False, traceback.format_exc()))
    finally:
        send.close()
        # Skip the parent's atexit handlers and buffered I/O: they belong to the parent.
        os._exit(0)
