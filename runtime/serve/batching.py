"""Dynamic batching per model: requests queue up, each free replica takes a batch and runs it in a
thread, so the event loop never waits on inference.

Like Triton's dynamic batcher, one batch is formed at a time, by the replica that is free first
(shortest queue wins without bookkeeping), while the others run theirs. A batch takes the queued
requests in arrival order, up to `max_batch` rows along dim 0; requests whose non-batch dims or
dtypes differ from the first one's keep their place for a later batch. It runs at once when it
is full or has reached one of the backend's preferred sizes (the largest it can: the requests
after that stay queued); otherwise it waits for more until its first request has been queued
`max_delay_s`, then runs what it has (with a delay of 0, preferred sizes change nothing, as in
Triton).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

Feeds = dict[str, np.ndarray]
RunBatch = Callable[[int, Feeds], Feeds]  # (replica index, feeds) -> outputs, in a thread
_ORDER = itertools.count()


@dataclass
class BatchStats:
    """What one executed batch cost, for the metrics."""

    size: int
    queue_s: list[float]
    compute_s: float


@dataclass(order=True)
class _Pending:
    queued_at: float  # the queue's order: arrival, then submission order
    order: int
    feeds: Feeds = field(compare=False)
    rows: int = field(compare=False)
    future: asyncio.Future[Feeds] = field(compare=False)

    def key(self) -> tuple[tuple[str, str, tuple[int, ...]], ...]:
        return tuple((n, a.dtype.str, a.shape[1:]) for n, a in sorted(self.feeds.items()))


def batch_cut(rows: Sequence[int], max_batch: int, preferred: Iterable[int], may_wait: bool) -> int:
    """How many of the requests collected so far (their rows, in arrival order) run now as one
    batch; 0: wait for more. All of them when they fill `max_batch` rows, when their rows are a
    preferred size, or when the batch may not wait any longer; else the longest run of the first
    ones whose rows are a preferred size, if there is one."""
    preferred = set(preferred)
    total = sum(rows)
    if total >= max_batch or total in preferred or not may_wait:
        return len(rows)
    cut = 0
    for count, rows_so_far in enumerate(itertools.accumulate(rows), 1):
        if rows_so_far in preferred:
            cut = count
    return cut


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
        preferred: Sequence[int] = (),
    ) -> None:
        self._run_batch = run_batch
        self._executor = executor
        self._max_batch = max(max_batch, 1)
        self._max_delay_s = max_delay_s
        self._preferred = frozenset(p for p in preferred if 1 <= p <= self._max_batch)
        self._on_batch = on_batch
        self._queue: asyncio.PriorityQueue[_Pending] = asyncio.PriorityQueue()
        self._forming = asyncio.Lock()  # one batch is formed at a time
        self._closed = False
        self._busy = 0  # replicas forming or running a batch
        self._tasks = [asyncio.create_task(self._replica(i)) for i in range(max(replicas, 1))]

    async def submit(self, feeds: Feeds) -> Feeds:
        """Outputs for one request (its own rows of every output)."""
        if self._closed:
            raise RuntimeError("the model is being unloaded")
        rows = next(iter(feeds.values())).shape[0] if self._max_batch > 1 and feeds else 1
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(time.perf_counter(), next(_ORDER), feeds, rows, future))
        return await future

    async def close(self) -> None:
        """Finish every queued and running request, then stop the replica tasks."""
        self._closed = True  # batches stop waiting to fill
        while self._queue.qsize() or self._busy:
            await asyncio.sleep(0.005)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _collect(self, first: _Pending) -> list[_Pending]:
        """The batch starting with `first` (see the module's docstring); the queued requests it
        passes over go back to the queue in their places."""
        batch, rows, key = [first], first.rows, first.key()
        deadline = first.queued_at + self._max_delay_s
        passed: list[_Pending] = []
        full = False
        try:
            while True:
                while not full and len(passed) <= self._max_batch and not self._queue.empty():
                    item = self._queue.get_nowait()
                    if item.key() != key:
                        passed.append(item)
                    elif rows + item.rows > self._max_batch:
                        passed.append(item)
                        full = True
                    else:
                        batch.append(item)
                        rows += item.rows
                remaining = deadline - time.perf_counter()
                may_wait = not full and not self._closed and remaining > 0
                cut = batch_cut([p.rows for p in batch], self._max_batch, self._preferred, may_wait)
                if cut:
                    passed += batch[cut:]
                    return batch[:cut]
                try:  # a new request goes back in its place and is taken in order above
                    self._queue.put_nowait(await asyncio.wait_for(self._queue.get(), remaining))
                except asyncio.TimeoutError:
                    pass
        finally:
            for item in passed:
                self._queue.put_nowait(item)

    async def _replica(self, index: int) -> None:
        loop = asyncio.get_running_loop()
        while True:
            async with self._forming:
                first = await self._queue.get()
                self._busy += 1
                try:
                    batch = await self._collect(first) if self._max_batch > 1 else [first]
                except BaseException:
                    self._busy -= 1
                    raise
            try:
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
