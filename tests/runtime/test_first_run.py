"""Placement "fastest" again at the first run, on its inputs, where creation made sizes up.

Costs are fixed per (made-up or real inputs, what, backend) by replacing the placer's timer, so
the choices are deterministic; nothing asserts wall-clock time.
"""

from __future__ import annotations

import threading

import numpy as np
import onnxruntime as ort
import pytest

from xinrt import InferenceSession, SessionOptions
from xinrt.fastest import _Placer

# On made-up inputs `cpu` is faster, on a run's real ones `ort`.
MADE_UP = {"cpu": 1e-3, "ort": 2e-3}
REAL = {"cpu": 3e-3, "ort": 2e-3}


def _costs_by_inputs(monkeypatch, tmp_path, made_up=MADE_UP, real=REAL):
    """Timings return made_up[backend] on made-up inputs and real[backend] on a run's inputs;
    the list records (made up?, what, backend, shape of x) per timing."""
    monkeypatch.setenv("XINRT_CACHE_DIR", str(tmp_path))
    calls = []

    def fake_time(self, backend, run, what, **_):
        run()
        on_made_up = self.s.feeds is None
        calls.append((on_made_up, what, backend, self._timing_feeds()["x"].shape))
        return (made_up if on_made_up else real)[backend]

    monkeypatch.setattr(_Placer, "_time", fake_time)
    return calls


def _feeds(rows: int) -> dict[str, np.ndarray]:
    return {"x": np.random.default_rng(rows).standard_normal((rows, 8)).astype(np.float32)}


def _backends(session) -> list[str]:
    return [p.backend for p in session.placement.partitions]


def test_the_first_run_times_again_on_its_inputs_and_switches(monkeypatch, tmp_path, mlp_model):
    calls = _costs_by_inputs(monkeypatch, tmp_path)
    session = InferenceSession(mlp_model, backends=["cpu", "ort"])
    assert _backends(session) == ["cpu"]
    assert {shape for made_up, _, _, shape in calls if made_up} == {(1, 8)}  # N timed at 1
    outputs = session.run(None, _feeds(32))
    assert _backends(session) == ["ort"]
    assert {shape for made_up, _, _, shape in calls if not made_up} == {(32, 8)}
    notes = session.placement.decision["notes"]
    assert any("timed on the inputs of the first run (x [32, 8])" in n for n in notes)
    expected = ort.InferenceSession(mlp_model.SerializeToString()).run(None, _feeds(32))
    np.testing.assert_allclose(outputs[0], expected[0], rtol=1e-5, atol=1e-6)
    timed = len(calls)
    session.run(None, _feeds(5))  # only the first run places again
    assert len(calls) == timed and _backends(session) == ["ort"]


@pytest.mark.parametrize(
    "first_run, rows",
    [(True, 1), (False, 32)],
    ids=["a first run at the made-up sizes", "placement_first_run=False"],
)
def test_the_first_run_keeps_the_creations_choice(
    monkeypatch, tmp_path, mlp_model, first_run, rows
):
    calls = _costs_by_inputs(monkeypatch, tmp_path)
    options = SessionOptions(placement_first_run=first_run)
    session = InferenceSession(mlp_model, options, backends=["cpu", "ort"])
    timed = len(calls)
    session.run(None, _feeds(rows))
    assert len(calls) == timed and _backends(session) == ["cpu"]


def test_the_costs_at_real_sizes_are_cached_apart(monkeypatch, tmp_path, mlp_model):
    calls = _costs_by_inputs(monkeypatch, tmp_path)
    InferenceSession(mlp_model, backends=["cpu", "ort"]).run(None, _feeds(32))
    calls.clear()
    second = InferenceSession(mlp_model, backends=["cpu", "ort"])
    second.run(None, _feeds(32))
    assert calls == [] and _backends(second) == ["ort"]  # both choices from the cache
    assert second.placement.decision["source"] == "cache"


def test_a_failure_placing_again_keeps_the_first_placement(monkeypatch, tmp_path, mlp_model):
    _costs_by_inputs(monkeypatch, tmp_path)
    session = InferenceSession(mlp_model, backends=["cpu", "ort"])

    def broken(self, *args, **kwargs):
        raise RuntimeError("a backend bug while timing")

    monkeypatch.setattr(_Placer, "place", broken)
    with pytest.warns(RuntimeWarning, match="placing again on the first run's inputs failed"):
        outputs = session.run(None, _feeds(32))
    assert _backends(session) == ["cpu"]
    expected = ort.InferenceSession(mlp_model.SerializeToString()).run(None, _feeds(32))
    np.testing.assert_allclose(outputs[0], expected[0], rtol=1e-5, atol=1e-6)
    assert any("kept: a backend bug" in n for n in session.placement.decision["notes"])


def test_concurrent_first_runs_place_again_once(monkeypatch, tmp_path, mlp_model):
    calls = _costs_by_inputs(monkeypatch, tmp_path)
    session = InferenceSession(mlp_model, backends=["cpu", "ort"])
    results: list[np.ndarray] = []
    threads = [
        threading.Thread(target=lambda: results.append(session.run(None, _feeds(32))[0]))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(np.array_equal(r, results[0]) for r in results)
    timed = [backend for made_up, what, backend, _ in calls if not made_up and what == "whole"]
    # Placed again once: each whole candidate timed in placement_runs turns, not twice that.
    assert sorted(set(timed)) == ["cpu", "ort"]
    assert len(timed) == 2 * SessionOptions().placement_runs
