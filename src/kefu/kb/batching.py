"""Questions asked at the same time are answered in one engine call.

Encoding a batch of questions costs far less per question than encoding each alone
(one matrix product instead of many small ones, one pass of Python overhead), and the
chat bot and search-as-you-type ask many at once. No question ever waits for company:
the first runs at once, and those that arrive while it runs go together in the next
call. At low load nothing changes; under load, the batches grow by themselves.
"""

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """Runs `answer_all` (blocking; in a worker thread) on the items queued so far.

    `answer_all` returns one result per item, in order. If it raises, every question of
    that batch gets the exception; the next batch runs normally."""

    def __init__(self, answer_all: Callable[[Sequence[Item]], Sequence[Result]], *,
                 max_batch: int = 32) -> None:
        self._answer_all = answer_all
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.batches = 0  # calls made, for tests and the curious

    async def ask(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._waiting:
            batch = self._waiting[:self._max_batch]
            del self._waiting[:self._max_batch]
            self.batches += 1
            try:
                results = await asyncio.to_thread(self._answer_all, [item for item, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():  # its asker may have gone (a closed connection)
                    future.set_result(result)
