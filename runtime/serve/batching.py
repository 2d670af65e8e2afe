"""Dynamic batching per model: requests queue up, each free replica takes a batch and runs it in a
thread, so the event loop never waits on inference.

Every replica is one task pulling from one shared queue: the replica that is free first takes the
next batch (shortest queue wins without bookkeeping). A batch takes what is queued, up to
`max_batch` rows along dim 0, waiting at most `max_delay_s` for more; requests whose non-batch
dims or dtypes differ from the first one wait for the next batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

Feeds = dict[str, np.ndarray]
RunBatch = Callable[[int, Feeds], Feeds]  # (replica index, feeds) -> outputs, in a thread


@dataclass
class BatchStats:
    """What one executed batch cost, for the metrics."""

    size: int
    queue_s: list[float]
    compute_s: float


@dataclass
class _Pending:
    feeds: Feeds
    rows: int
    future: asyncio.Future[Feeds]
    queued_at: float = field(default_factory=time.perf_counter)

    def key(self) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
        return tuple((n, a.dtype.str, a.shape[1:]) for n, a in sorted(self.feeds.items()))


class Batcher:
    """Queues requests of one model and runs them in batches on `replicas` sessions."""

    def __init__(
        self,
        run_batch: RunBatch,
        replicas: int,
        executor: Executor,
        max_batch: int,
        max_delay_s: float,
        on_batch: Callable[[BatchStats], None] = lambda stats: None,
    ) -> None:
        self._run_batch = run_batch
        self._executor = executor
        self._max_batch = max(max_batch, 1)
        self._max_delay_s = max_delay_s
        self._on_batch = on_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._held: list[_Pending] = []  # taken from the queue but left for a later batch
        self._closed = False
        self._busy = 0  # replicas collecting or running a batch
        self._tasks = [asyncio.create_task(self._replica(i)) for i in range(max(replicas, 1))]

    async def submit(self, feeds: Feeds) -> Feeds:
        """Outputs for one request (its own rows of every output)."""
        if self._closed:
            raise RuntimeError("the model is being unloaded")
        rows = next(iter(feeds.values())).shape[0] if self._max_batch > 1 and feeds else 1
        pending = _Pending(feeds, rows, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(pending)
        return await pending.future

    async def close(self) -> None:
        """Finish every queued and running request, then stop the replica tasks."""
        self._closed = True
        while self._queue.qsize() or self._held or self._busy:
            await asyncio.sleep(0.005)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _take_queued(self) -> _Pending | None:
        if self._held:
            return self._held.pop(0)
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    async def _collect(self, first: _Pending) -> list[_Pending]:
        """A batch starting with `first`: compatible queued requests up to max_batch rows."""
        batch, rows, key = [first], first.rows, first.key()
        deadline = time.perf_counter() + self._max_delay_s
        skipped: list[_Pending] = []
        while rows < self._max_batch and len(skipped) <= self._max_batch:
            item = self._take_queued()
            remaining = deadline - time.perf_counter()
            if item is None and remaining > 0:
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except asyncio.TimeoutError:
                    item = None
            if item is None:
                break
            if item.key() != key or rows + item.rows > self._max_batch:
                skipped.append(item)
                continue
            batch.append(item)
            rows += item.rows
        self._held = skipped + self._held
        return batch

    async def _replica(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = self._held.pop(0) if self._held else await self._queue.get()
            self._busy += 1
            try:
                batch = await self._collect(first) if self._max_batch > 1 else [first]
                await self._execute(loop, index, batch)
            finally:
                self._busy -= 1

    def _run_rows(self, index: int, batch: list[_Pending]) -> list[Feeds]:
        outputs = self._run_batch(index, _concat([p.feeds for p in batch]))
        return _split(outputs, [p.rows for p in batch])

    async def _execute(
        self, loop: asyncio.AbstractEventLoop, index: int, batch: list[_Pending]
    ) -> None:
        started = time.perf_counter()
        try:  # concatenating and splitting happen in the thread too: the loop stays free
            parts = await loop.run_in_executor(self._executor, self._run_rows, index, batch)
        except Exception as exc:  # every request of the batch gets the failure
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(exc)
        else:
            for p, part in zip(batch, parts):
                if not p.future.done():
                    p.future.set_result(part)
        finally:
            queue_s = [started - p.queued_at for p in batch]
            stats = BatchStats(sum(p.rows for p in batch), queue_s, time.perf_counter() - started)
            self._on_batch(stats)


def _concat(requests: Sequence[Feeds]) -> Feeds:
    if len(requests) == 1:
        return requests[0]
    return {name: np.concatenate([r[name] for r in requests]) for name in requests[0]}


def _split(outputs: Feeds, rows: Sequence[int]) -> list[Feeds]:
    if len(rows) == 1:
        return [outputs]
    bounds = np.cumsum(rows)[:-1]
    parts: list[Feeds] = [{} for _ in rows]
    for name, value in outputs.items():
        if value.ndim == 0 or value.shape[0] != sum(rows):
            raise RuntimeError(
                f"output {name!r} has shape {list(value.shape)}: dim 0 is not the batch of "
                f"{sum(rows)} rows, so this model cannot be batched; set max_batch_size: 0"
            )
        for part, piece in zip(parts, np.split(value, bounds)):
            part[name] = piece
    return parts
