"""The dynamic batcher on its own: rows go back to the request they came from, limits hold, a
failure reaches exactly the requests of its batch, and the batcher keeps serving."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from xinrt.serve.batching import Batcher, BatchStats, batch_cut


def _run(batcher_kwargs: dict, requests: list[dict[str, np.ndarray]], run_batch) -> tuple:
    stats: list[BatchStats] = []

    async def main() -> list:
        batcher = Batcher(run_batch, on_batch=stats.append, **batcher_kwargs)
        results = await asyncio.gather(
            *(batcher.submit(r) for r in requests), return_exceptions=True
        )
        await batcher.close()
        return results

    return asyncio.run(main()), stats


def _double(replica: int, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"y": feeds["x"] * 2.0, "rows": np.full((feeds["x"].shape[0],), feeds["x"].shape[0])}


def test_each_request_gets_its_own_rows_back_from_a_shared_batch() -> None:
    rng = np.random.default_rng(1)
    requests = [{"x": rng.standard_normal((rows, 3)).astype(np.float32)} for rows in (1, 2, 1, 3)]
    results, stats = _run(dict(replicas=1, max_batch=8, max_delay_s=0.2), requests, _double)
    for request, result in zip(requests, results):
        np.testing.assert_array_equal(result["y"], request["x"] * 2.0)
    assert [s.size for s in stats] == [7]  # one batch: the window collected all four
    assert all(result["rows"][0] == 7 for result in results)


def test_max_batch_rows_and_different_inner_shapes_split_batches() -> None:
    rng = np.random.default_rng(2)
    requests = [{"x": rng.standard_normal((2, 3)).astype(np.float32)} for _ in range(5)]
    requests.append({"x": rng.standard_normal((1, 4)).astype(np.float32)})  # other inner dim
    results, stats = _run(dict(replicas=1, max_batch=4, max_delay_s=0.2), requests, _double)
    for request, result in zip(requests, results):
        np.testing.assert_array_equal(result["y"], request["x"] * 2.0)
    assert all(s.size <= 4 for s in stats)
    assert sum(s.size for s in stats) == 11


def test_a_failing_batch_fails_its_requests_and_the_next_batch_runs() -> None:
    calls = []

    def flaky(replica: int, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        calls.append(feeds["x"].shape[0])
        if np.any(feeds["x"] < 0):
            raise RuntimeError("negative input")
        return _double(replica, feeds)

    async def main() -> tuple:
        batcher = Batcher(flaky, replicas=1, max_batch=1, max_delay_s=0.0)
        bad = await asyncio.gather(
            batcher.submit({"x": -np.ones((1, 2), np.float32)}), return_exceptions=True
        )
        good = await batcher.submit({"x": np.arange(2, dtype=np.float32).reshape(1, 2)})
        await batcher.close()
        return bad[0], good

    bad, good = asyncio.run(main())
    assert isinstance(bad, RuntimeError) and "negative" in str(bad)
    np.testing.assert_array_equal(good["y"], [[0.0, 2.0]])


def test_replicas_run_batches_in_parallel_threads() -> None:
    running, peak, lock = [0], [0], threading.Lock()
    barrier = threading.Barrier(2, timeout=5)

    def slow(replica: int, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        barrier.wait()  # passes only if two replicas run at the same time
        with lock:
            running[0] -= 1
        return _double(replica, feeds)

    requests = [{"x": np.full((1, 2), i, np.float32)} for i in range(2)]
    results, _ = _run(dict(replicas=2, max_batch=1, max_delay_s=0.0), requests, slow)
    assert peak[0] == 2
    for i, result in enumerate(results):
        np.testing.assert_array_equal(result["y"], np.full((1, 2), 2.0 * i))


def test_output_without_the_batch_dim_is_refused_when_batched() -> None:
    def scalar(replica: int, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"total": np.asarray(float(feeds["x"].sum()))}

    requests = [{"x": np.ones((1, 2), np.float32)} for _ in range(3)]
    results, _ = _run(dict(replicas=1, max_batch=4, max_delay_s=0.2), requests, scalar)
    assert all(isinstance(r, RuntimeError) and "max_batch_size: 0" in str(r) for r in results)


@pytest.mark.parametrize("delay", [0.0, 0.05])
def test_close_answers_every_queued_request_first(delay: float) -> None:
    async def main() -> tuple:
        batcher = Batcher(_double, replicas=2, max_batch=2, max_delay_s=delay)
        tasks = [
            asyncio.create_task(batcher.submit({"x": np.full((1, 2), i, np.float32)}))
            for i in range(6)
        ]
        await asyncio.sleep(0)  # every request is queued, none answered yet
        queued = sum(not t.done() for t in tasks)
        await batcher.close()
        finished = all(t.done() for t in tasks)
        return queued, finished, [t.result() for t in tasks]

    queued, finished, results = asyncio.run(main())
    assert queued == 6 and finished
    for i, result in enumerate(results):
        np.testing.assert_array_equal(result["y"], np.full((1, 2), 2.0 * i))


@pytest.mark.parametrize(
    "rows, preferred, may_wait, cut",
    [
        ([1, 1, 1], (), True, 0),  # no preferred size: wait to fill up to max_batch
        ([1, 1, 1], (), False, 3),  # the delay is over: run what is there
        ([4, 4], (), True, 2),  # full
        ([1, 1, 1, 1, 1, 1], (4,), True, 4),  # the largest preferred size reached; 2 stay
        ([1, 2, 1, 1], (2, 4), True, 3),  # rows 1, 3, 4, 5: 4 is preferred
        ([1, 2, 2], (2, 4), True, 0),  # rows 1, 3, 5: none preferred, keep waiting
        ([1, 2, 2], (2, 4), False, 3),  # ... until the delay is over: all of them
        ([2, 1], (3,), True, 2),  # exactly a preferred size
        ([1, 1, 1, 1, 1, 1], (4,), False, 6),  # no delay (or its end): preferred sizes do not cut
    ],
)
def test_batch_cut_runs_full_or_preferred_batches_and_waits_otherwise(
    rows: list[int], preferred: tuple[int, ...], may_wait: bool, cut: int
) -> None:
    assert batch_cut(rows, 8, preferred, may_wait) == cut


def test_preferred_batch_sizes_cut_batches_and_leave_the_rest_queued() -> None:
    """Six one-row requests queued at once with preferred size 4 (max 8, a long delay): a batch
    of 4 runs at once, the other 2 wait, and run as a batch of 4 with the next two requests."""
    sizes: list[int] = []

    async def main() -> list:
        batcher = Batcher(_double, replicas=1, max_batch=8, max_delay_s=60.0,
                          on_batch=lambda s: sizes.append(s.size), preferred=(4,))  # fmt: skip
        tasks = [
            asyncio.create_task(batcher.submit({"x": np.full((1, 2), i, np.float32)}))
            for i in range(6)
        ]
        await asyncio.wait(tasks[:4])  # the first batch: requests 0-3
        assert sizes == [4] and not any(t.done() for t in tasks[4:])
        tasks += [
            asyncio.create_task(batcher.submit({"x": np.full((1, 2), i, np.float32)}))
            for i in (6, 7)
        ]
        results = await asyncio.gather(*tasks)
        await batcher.close()
        return results

    results = asyncio.run(main())
    assert sizes == [4, 4]
    for i, result in enumerate(results):
        np.testing.assert_array_equal(result["y"], np.full((1, 2), 2.0 * i))
