import os
import sys

import numpy as np
import pytest

from kefu.core import forked
from kefu.core.forked import ChildFailed, run_forked

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
