"""Run work in a short-lived forked child and bring its results back.

For work whose libraries the long-lived process should never load: the child
imports what it needs, computes, sends its (pickled) results through a pipe and
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
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM, _ERROR, _DONE = "item", "error", "done"


class ChildFailed(RuntimeError):
    """The child raised (its traceback is in the message) or died without an answer."""


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def run_forked(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` computed in a forked child; in this process where fork is missing."""
    if not fork_available():
        return function(*args)
    results: list[T] = list(stream_forked(_single, function, *args))
    return results[0]


def _single(function: Callable[..., T], *args: Any) -> Iterator[T]:
    yield function(*args)


def stream_forked(function: Callable[..., Iterable[T]], *args: Any) -> Iterator[T]:
    """The items of ``function(*args)``, computed in one forked child, each as soon as the
    child has it: the caller can work on the first while the child computes the next.
    Closing the iterator early stops the child."""
    if not fork_available():
        yield from function(*args)
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    # Not a daemon: daemonic processes may not fork, and a web worker may be one.
    child = context.Process(target=_child, args=(send, function, args))
    child.start()
    send.close()  # the child holds its own copy; EOF here once it exits
    finished = False
    try:
        while True:
            try:
                kind, payload = receive.recv()
            except EOFError:
                finished = True
                child.join()
                raise ChildFailed(
                    f"child exited with code {child.exitcode} before answering"
                ) from None
            if kind != _ITEM:
                finished = True
                if kind == _ERROR:
                    raise ChildFailed(payload)
                break
            yield payload
    finally:
        receive.close()
        if not finished:  # abandoned early: the rest of its results are not wanted
            child.kill()
        child.join()


def _child(send: Connection, function: Callable[..., Iterable[Any]],
           args: tuple[Any, ...]) -> None:
    try:
        try:
            for item in function(*args):
                send.send((_ITEM, item))
            send.send((_DONE, None))
        except BrokenPipeError:
            pass  # the parent stopped listening
        except BaseException:  # every failure goes back to the parent, e.g. a result
            send.send((_ERROR, traceback.format_exc()))  # that cannot be pickled
    finally:
        send.close()
        # Skip the parent's atexit handlers and buffered I/O: they belong to the parent.
        os._exit(0)
