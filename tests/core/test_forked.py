import os
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest

from kefu.core import forked
from kefu.core.forked import ChildFailed, run_forked, stream_forked

pytestmark = pytest.mark.skipif(not forked.fork_available(), reason="needs fork")


def _pid_and_sum(values: np.ndarray) -> tuple[int, float]:
    return os.getpid(), float(values.sum())


def test_the_function_runs_in_another_process_and_its_result_comes_back() -> None:
    values = np.arange(1_000_000, dtype=np.float64)
    pid, total = run_forked(_pid_and_sum, values)
    assert pid != os.getpid()
    assert total == float(values.sum())


def _import_a_module() -> bool:
    import wave  # noqa: F401 - any module this process has not loaded

    return "wave" in sys.modules


def test_what_the_child_imports_stays_in_the_child() -> None:
    sys.modules.pop("wave", None)
    assert run_forked(_import_a_module)
    assert "wave" not in sys.modules


def _fail() -> None:
    raise ValueError("bad input 42")


def test_an_exception_in_the_child_is_raised_here_with_its_traceback() -> None:
    with pytest.raises(ChildFailed, match="ValueError: bad input 42"):
        run_forked(_fail)


def _die() -> None:
    os._exit(3)


def test_a_child_that_dies_without_answering_is_an_error() -> None:
    with pytest.raises(ChildFailed, match="code 3"):
        run_forked(_die)


def _unpicklable() -> object:
    return lambda: None


def test_a_result_that_cannot_be_sent_is_an_error_not_a_hang() -> None:
    with pytest.raises(ChildFailed, match="pickle"):
        run_forked(_unpicklable)


def test_without_fork_it_runs_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked, "fork_available", lambda: False)
    assert run_forked(_pid_and_sum, np.ones(3)) == (os.getpid(), 3.0)


def _steps(n: int) -> Iterator[tuple[int, int]]:
    for i in range(n):
        yield os.getpid(), i


def test_a_stream_hands_over_each_item_as_the_child_makes_it() -> None:
    items = list(stream_forked(_steps, 3))
    assert [i for _, i in items] == [0, 1, 2]
    assert len({pid for pid, _ in items}) == 1 and items[0][0] != os.getpid()


def _one_then_fail() -> Iterator[int]:
    yield 1
    raise ValueError("second step broke")


def test_a_failure_after_some_items_raises_after_them() -> None:
    got = []
    with pytest.raises(ChildFailed, match="second step broke"):
        for item in stream_forked(_one_then_fail):
            got.append(item)
    assert got == [1]


def _forever() -> Iterator[int]:
    i = 0
    while True:
        yield i
        i += 1
        time.sleep(0.01)


def test_leaving_a_stream_early_stops_the_child() -> None:
    stream = stream_forked(_forever)
    assert next(stream) == 0
    began = time.monotonic()
    stream.close()
    assert time.monotonic() - began < 2
