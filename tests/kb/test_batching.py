"""Concurrent questions share engine calls; a lone question runs at once."""

import asyncio
import threading
from collections.abc import Sequence

import pytest

from kefu.kb.batching import Batcher


class SlowEngine:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.release = threading.Event()

    def answer_all(self, questions: Sequence[str]) -> list[str]:
        self.calls.append(list(questions))
        if len(self.calls) == 1:
            self.release.wait(5)  # the first call is busy while the others arrive
        if "boom" in questions:
            raise ValueError("engine failed")
        return [q.upper() for q in questions]


async def test_questions_arriving_during_a_call_go_together_in_the_next() -> None:
    engine = SlowEngine()
    batcher: Batcher[str, str] = Batcher(engine.answer_all)
    first = asyncio.create_task(batcher.ask("first"))
    await asyncio.sleep(0.05)
    others = [asyncio.create_task(batcher.ask(f"q{i}")) for i in range(10)]
    await asyncio.sleep(0.05)
    engine.release.set()
    assert await first == "FIRST"
    assert [await t for t in others] == [f"Q{i}" for i in range(10)]
    assert engine.calls == [["first"], [f"q{i}" for i in range(10)]]


async def test_a_lone_question_is_answered_alone_and_at_once() -> None:
    engine = SlowEngine()
    engine.release.set()
    batcher: Batcher[str, str] = Batcher(engine.answer_all)
    assert await asyncio.wait_for(batcher.ask("alone"), 1) == "ALONE"
    assert engine.calls == [["alone"]]


async def test_a_failed_batch_fails_its_questions_only() -> None:
    engine = SlowEngine()
    batcher: Batcher[str, str] = Batcher(engine.answer_all, max_batch=2)
    first = asyncio.create_task(batcher.ask("first"))
    await asyncio.sleep(0.05)
    doomed = [asyncio.create_task(batcher.ask(q)) for q in ("boom", "x")]
    fine = asyncio.create_task(batcher.ask("later"))
    await asyncio.sleep(0.05)
    engine.release.set()
    assert await first == "FIRST"
    for task in doomed:
        with pytest.raises(ValueError, match="engine failed"):
            await task
    assert await fine == "LATER"
    assert engine.calls[1:] == [["boom", "x"], ["later"]]
