"""Dynamic batching per model: requests queue up, each replica is a thread of its own that takes
a batch, runs it and hands the outputs back to the event loop, which never waits on inference.

Like Triton's dynamic batcher, one batch is formed at a time, by the replica that is free first
(shortest queue wins without bookkeeping), while the others run theirs. A batch takes the queued
requests in arrival order, up to `max_batch` rows along dim 0; requests whose non-batch dims or
dtypes differ from the first one's keep their place for a later batch. It runs at once when it
is full or has reached one of the backend's preferred sizes (the largest it can: the requests
after that stay queued); otherwise it waits for more until its first request has been queued
`max_delay_s`, then runs what it has (with a delay of 0, preferred sizes change nothing, as in
Triton).

The replica threads form the batches themselves: a replica that finishes a batch takes the next
one at once, without a round trip through the event loop (which, on a busy machine, waits for
the scheduler twice per batch). The loop only queues requests and sets each batch's results.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

Feeds = dict[str, np.ndarray]
RunBatch = Callable[[int, Feeds], Feeds]  # (replica index, feeds) -> outputs, in its thread
_ORDER = itertools.count()
_LOG = logging.getLogger("xinrt.serve")


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
    """Queues requests of one model and runs them in batches on `replicas` threads; create it in
    the event loop that submits (its results are set there). `on_batch` runs in the replica's
    thread."""

    def __init__(
        self,
        run_batch: RunBatch,
        replicas: int,
        max_batch: int,
        max_delay_s: float,
        on_batch: Callable[[BatchStats], None] = lambda stats: None,
        preferred: Sequence[int] = (),
        name: str = "xinrt",
    ) -> None:
        self._run_batch = run_batch
        self._max_batch = max(max_batch, 1)
        self._max_delay_s = max_delay_s
        self._preferred = frozenset(p for p in preferred if 1 <= p <= self._max_batch)
        self._on_batch = on_batch
        self._loop = asyncio.get_running_loop()
        self._queue: list[_Pending] = []  # a heap: arrival order
        self._changed = threading.Condition()  # guards the queue and the counters below
        self._forming = threading.Lock()  # one batch is formed at a time
        self._closed = False  # no new requests; batches stop waiting to fill
        self._stopping = False  # the replica threads end
        self._busy = 0  # batches formed and not yet answered
        self._threads = [
            threading.Thread(target=self._replica, args=(i,), name=f"{name}-{i}", daemon=True)
            for i in range(max(replicas, 1))
        ]
        for thread in self._threads:
            thread.start()

    async def submit(self, feeds: Feeds) -> Feeds:
        """Outputs for one request (its own rows of every output)."""
        if self._closed:
            raise RuntimeError("the model is being unloaded")
        rows = next(iter(feeds.values())).shape[0] if self._max_batch > 1 and feeds else 1
        future = self._loop.create_future()
        pending = _Pending(time.perf_counter(), next(_ORDER), feeds, rows, future)
        with self._changed:
            heapq.heappush(self._queue, pending)
            self._changed.notify()
        return await future

    async def close(self) -> None:
        """Finish every queued and running request, then end the replica threads."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        while True:
            with self._changed:
                if not self._queue and not self._busy:
                    self._stopping = True
                    self._changed.notify_all()
                    break
            await asyncio.sleep(0.005)
        while any(t.is_alive() for t in self._threads):
            await asyncio.sleep(0.005)

    def _replica(self, index: int) -> None:
        while True:
            with self._forming, self._changed:
                batch = self._form()
                if batch is None:
                    return
                self._busy += 1
            try:
                self._execute(index, batch)
            finally:
                with self._changed:
                    self._busy -= 1

    def _form(self) -> list[_Pending] | None:
        """The next batch (see the module's docstring), None when stopping; called holding
        `_changed`, whose wait() lets requests in."""
        while not self._queue:
            if self._stopping:
                return None
            self._changed.wait()
        first = heapq.heappop(self._queue)
        if self._max_batch <= 1:
            return [first]
        batch, rows, key = [first], first.rows, first.key()
        deadline = first.queued_at + self._max_delay_s
        passed: list[_Pending] = []
        full = False
        while True:
            while not full and len(passed) <= self._max_batch and self._queue:
                item = heapq.heappop(self._queue)
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
                for item in passed + batch[cut:]:  # back in their places
                    heapq.heappush(self._queue, item)
                return batch[:cut]
            self._changed.wait(remaining)

    def _execute(self, index: int, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        parts: list[Feeds] | None = None
        error: BaseException | None = None
        try:
            outputs = self._run_batch(index, _concat([p.feeds for p in batch]))
            parts = _split(outputs, [p.rows for p in batch])
        except Exception as exc:  # every request of the batch gets the failure
            error = exc
        queue_s = [started - p.queued_at for p in batch]
        stats = BatchStats(sum(p.rows for p in batch), queue_s, time.perf_counter() - started)
        try:
            self._on_batch(stats)
        except Exception:  # a metrics failure must not end the replica or lose the answers
            _LOG.exception("recording a batch's metrics failed")
        try:
            self._loop.call_soon_threadsafe(_answer, batch, parts, error)
        except RuntimeError:  # the loop is closed: nobody waits for these answers
            pass


def _answer(batch: list[_Pending], parts: list[Feeds] | None, error: BaseException | None) -> None:
    """Set a batch's results, in the event loop (a request whose client left is skipped)."""
    for i, p in enumerate(batch):
        if p.future.done():
            continue
        if parts is None:
            p.future.set_exception(error or RuntimeError("the batch gave no outputs"))
        else:
            p.future.set_result(parts[i])


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
