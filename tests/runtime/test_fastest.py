"""Placement "fastest" in a session: the default, the cost cache, and the options it honours.

Choices are made deterministic by replacing the placer's timer with fixed costs per
(what, backend); no test asserts anything about wall-clock time.
"""

from __future__ import annotations

import os

import numpy as np
import onnxruntime as ort
import pytest
from onnx import helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession, InvalidArgumentError, SessionOptions, measure
from xinrt.backend import get_backend
from xinrt.cli import main as cli_main
from xinrt.fastest import _Placer


def _fixed_costs(monkeypatch, costs):
    """Every timing returns costs[(what, backend)] seconds (what: whole, unit or plan); the
    candidate still runs once, so a broken one still fails. A fresh cost cache each call."""
    calls = []
    _fresh_cache(monkeypatch)

    def fake_time(self, backend, run, what, **_):
        run()
        calls.append((what, backend))
        return costs[(what, backend)]

    monkeypatch.setattr(_Placer, "_time", fake_time)
    monkeypatch.setattr(measure, "time_runs", lambda run, runs, max_s=0.0: (run(), 1e-6)[1])
    return calls


def _fresh_cache(monkeypatch):
    _fresh_cache.count += 1
    base = os.environ["XINRT_CACHE_DIR"]
    monkeypatch.setenv("XINRT_CACHE_DIR", os.path.join(base, f"fastest-{_fresh_cache.count}"))


_fresh_cache.count = 0  # type: ignore[attr-defined]


def _expected(model, feeds):
    return ort.InferenceSession(model.SerializeToString()).run(None, feeds)[0]


def _mlp_feeds():
    return {"x": np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)}


def _det_feeds():
    return {"x": np.random.default_rng(11).standard_normal((2, 3, 3)).astype(np.float32)}


def test_fastest_is_the_default_and_the_environment_can_change_it(monkeypatch, mlp_model):
    assert SessionOptions().placement == "fastest"
    monkeypatch.setenv("XINRT_PLACEMENT", "priority")
    assert SessionOptions().placement == "priority"
    monkeypatch.setenv("XINRT_PLACEMENT", "quickest")
    with pytest.raises(InvalidArgumentError, match="placement must be one of fastest, priority"):
        InferenceSession(mlp_model, backends=["cpu", "ort"])


@pytest.mark.parametrize("faster", ["cpu", "ort"])
def test_the_backend_measured_faster_runs_the_whole_model(monkeypatch, mlp_model, faster):
    slower = "ort" if faster == "cpu" else "cpu"
    _fixed_costs(monkeypatch, {("whole", faster): 1e-3, ("whole", slower): 2e-3})
    session = InferenceSession(mlp_model, backends=["cpu", "ort"])
    report = session.placement
    assert [p.backend for p in report.partitions] == [faster]
    assert report.decision["mode"] == "fastest"
    winner = next(c for c in report.decision["candidates"] if c["winner"])
    assert winner["label"] == f"whole model on {faster}" and winner["measured"]
    expected = _expected(mlp_model, _mlp_feeds())
    np.testing.assert_allclose(session.run(None, _mlp_feeds())[0], expected, rtol=1e-4, atol=1e-5)


def _det_costs(plan_s):
    # cpu runs relu/square and neg; only ort runs Det. Per unit cpu is cheaper.
    return {
        ("whole", "ort"): 10e-3,
        ("unit", "cpu"): 1e-3,
        ("unit", "ort"): 3e-3,
        ("plan", "cpu,ort"): plan_s,
    }


def test_a_mix_is_chosen_only_when_measured_faster_than_the_whole_model(monkeypatch, det_model):
    calls = _fixed_costs(monkeypatch, _det_costs(plan_s=6e-3))
    mixed = InferenceSession(det_model, backends=["cpu", "ort"])
    assert [p.backend for p in mixed.placement.partitions] == ["cpu", "ort", "cpu"]
    assert ("plan", "cpu,ort") in calls
    np.testing.assert_allclose(
        mixed.run(None, _det_feeds())[0], _expected(det_model, _det_feeds()), rtol=1e-4, atol=1e-5
    )


def test_a_mix_measured_slower_loses_to_the_best_whole_model(monkeypatch, det_model):
    _fixed_costs(monkeypatch, _det_costs(plan_s=12e-3))
    session = InferenceSession(det_model, backends=["cpu", "ort"])
    assert [p.backend for p in session.placement.partitions] == ["ort"]
    labels = {c["label"]: c for c in session.placement.decision["candidates"]}
    assert labels["whole model on ort"]["winner"]
    assert labels["mixed: cpu x2 units, ort x1 units"]["ms"] == pytest.approx(12.0)


def test_whole_models_are_timed_in_turns_so_a_burst_of_load_cannot_flip_the_choice(
    monkeypatch, mlp_model
):
    """cpu takes 1 ms, ort 2 ms; every call made while the "burst" lasts (the 2nd to 4th
    timing call) takes 10x. Timed one candidate after the other, cpu's calls could all fall in
    the burst; in turns (cpu ort, ort cpu, cpu ort) each keeps a clean call."""
    _fresh_cache(monkeypatch)
    order = []

    def loaded_time(self, backend, run, what, **_):
        run()
        if what != "whole":
            return 1e-6
        order.append(backend)
        seconds = {"cpu": 1e-3, "ort": 2e-3}[backend]
        return seconds * 10 if 2 <= len(order) <= 4 else seconds

    monkeypatch.setattr(_Placer, "_time", loaded_time)
    session = InferenceSession(mlp_model, SessionOptions(placement_runs=3), backends=["cpu", "ort"])
    assert order == ["cpu", "ort", "ort", "cpu", "cpu", "ort"]
    assert [p.backend for p in session.placement.partitions] == ["cpu"]
    labels = {c["label"]: c["ms"] for c in session.placement.decision["candidates"]}
    assert labels["whole model on cpu"] == pytest.approx(1.0)
    assert labels["whole model on ort"] == pytest.approx(2.0)


def test_a_second_session_times_nothing(monkeypatch, mlp_model, tmp_path):
    monkeypatch.setenv("XINRT_CACHE_DIR", str(tmp_path))
    first = InferenceSession(mlp_model, backends=["cpu", "ort"])
    assert first.placement.decision["source"] == "measured"

    def no_timing(run, runs, max_s=0.0):
        raise AssertionError("a warm cost cache must not time anything")

    monkeypatch.setattr(measure, "time_runs", no_timing)
    second = InferenceSession(mlp_model, backends=["cpu", "ort"])
    assert second.placement.decision["source"] == "cache"
    assert [p.backend for p in second.placement.partitions] == [
        p.backend for p in first.placement.partitions
    ]


def test_a_second_session_compiles_only_the_backend_it_places_on(monkeypatch, mlp_model, tmp_path):
    """With a warm cost cache the losing backend is neither timed nor compiled (start-up time
    of `xinrt serve`)."""
    monkeypatch.setenv("XINRT_CACHE_DIR", str(tmp_path))
    first = InferenceSession(mlp_model, backends=["cpu", "ort"])
    compiled: list[str] = []
    for name in ("cpu", "ort"):
        backend_class = type(get_backend(name))

        def recording(self, partition, *args, _compile=backend_class.compile, **kwargs):
            compiled.append(partition.backend)
            return _compile(self, partition, *args, **kwargs)

        monkeypatch.setattr(backend_class, "compile", recording)
    second = InferenceSession(mlp_model, backends=["cpu", "ort"])
    assert second.placement.decision["source"] == "cache"
    placed = [p.backend for p in second.placement.partitions]
    assert placed == [p.backend for p in first.placement.partitions]
    assert compiled == placed


def test_cache_ls_lists_the_measured_costs(mlp_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XINRT_CACHE_DIR", str(tmp_path))
    InferenceSession(mlp_model, backends=["cpu", "ort"])
    capsys.readouterr()
    assert cli_main(["cache", "ls"]) == 0
    out = capsys.readouterr().out
    assert "placement costs" in out and "whole model" in out and "boundary" in out


def test_strict_means_priority_on_the_first_backend(monkeypatch, mlp_model):
    _fixed_costs(monkeypatch, {("whole", "ort"): 1e-3, ("whole", "cpu"): 9e-3})
    options = SessionOptions(strict=True)
    session = InferenceSession(mlp_model, options, backends=["cpu", "ort"])
    assert [p.backend for p in session.placement.partitions] == ["cpu"]
    assert session.placement.decision["mode"] == "strict"


def test_an_override_still_pins_its_node(monkeypatch, det_model):
    _fixed_costs(monkeypatch, _det_costs(plan_s=6e-3) | {("plan", "cpu,ort,reference"): 6e-3})
    options = SessionOptions(placement_overrides={"neg": "reference"})
    session = InferenceSession(det_model, options, backends=["cpu", "ort"])
    neg = next(n for n in session.placement.nodes if n.name == "neg")
    assert neg.backend == "reference" and neg.pinned
    np.testing.assert_allclose(
        session.run(None, _det_feeds())[0], _expected(det_model, _det_feeds()), rtol=1e-4, atol=1e-5
    )


def test_the_fastest_choice_must_still_meet_min_coverage(monkeypatch, mlp_model):
    _fixed_costs(monkeypatch, {("whole", "ort"): 1e-3, ("whole", "cpu"): 9e-3})
    options = SessionOptions(min_coverage={"cpu": 0.5})
    session = InferenceSession(mlp_model, options, backends=["cpu", "ort"])
    assert [p.backend for p in session.placement.partitions] == ["cpu"]
    assert "excluded by min_coverage: whole model on ort" in session.placement.decision["reason"]


def test_a_symbolic_dim_is_timed_at_a_representative_size_and_the_report_says_so(monkeypatch):
    calls = _fixed_costs(monkeypatch, {("whole", "ort"): 1e-3, ("whole", "cpu"): 2e-3})
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    model = make_model([node], [tensor("x", [4, "sequence"])], [tensor("y", [4, "sequence"])])
    session = InferenceSession(model, backends=["cpu", "ort"])
    assert [p.backend for p in session.placement.partitions] == ["ort"]
    assert calls  # it was timed
    notes = " ".join(session.placement.decision["notes"])
    assert "sequence=64" in notes and "add_free_dimension_override_by_name" in notes
    options = SessionOptions(free_dimension_overrides={"sequence": 3})
    overridden = InferenceSession(model, options, backends=["cpu", "ort"])
    assert "made-up sizes" not in " ".join(overridden.placement.decision.get("notes", []))


def test_inputs_it_cannot_make_up_fall_back_to_priority_and_say_so(monkeypatch):
    calls = _fixed_costs(monkeypatch, {("whole", "ort"): 1e-3, ("whole", "cpu"): 2e-3})
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    huge = [2, 10**12, 4]  # 8 TB of made-up floats: never allocated
    model = make_model([node], [tensor("x", huge)], [tensor("y", huge)])
    session = InferenceSession(model, backends=["cpu", "ort"])
    assert [p.backend for p in session.placement.partitions] == ["cpu"]
    assert calls == []
    notes = " ".join(session.placement.decision["notes"])
    assert "'x'" in notes and "priority order used" in notes


def test_the_reference_backend_is_never_timed_where_another_runs(monkeypatch, mlp_model):
    calls = _fixed_costs(monkeypatch, {("whole", "ort"): 1e-3, ("whole", "cpu"): 2e-3})
    InferenceSession(mlp_model, backends=["cpu", "ort", "reference"])
    assert calls and all(backend != "reference" for _, backend in calls)


def test_placement_explain_shows_every_candidate_and_why(det_model, tmp_path, capsys):
    path = tmp_path / "det.onnx"
    path.write_bytes(det_model.SerializeToString())
    assert cli_main(["placement", str(path), "--backends", "cpu,ort", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "placement mode fastest" in out and "whole model on ort" in out
    assert "measured end to end" in out and "boundary on cpu" in out
    assert (
        cli_main(
            [
                "placement",
                str(path),
                "--backends",
                "cpu,ort",
                "--placement",
                "priority",
                "--explain",
            ]
        )
        == 0
    )
    assert "each node on the first backend that claims it" in capsys.readouterr().out


def test_with_no_budget_left_only_the_whole_model_candidates_are_timed(monkeypatch, det_model):
    calls = _fixed_costs(monkeypatch, _det_costs(plan_s=6e-3))
    options = SessionOptions(placement_budget_s=0.0)
    session = InferenceSession(det_model, options, backends=["cpu", "ort"])
    assert calls == [("whole", "ort")]
    assert [p.backend for p in session.placement.partitions] == ["ort"]
    assert any("time budget spent" in note for note in session.placement.decision["notes"])


def test_a_candidate_that_failed_on_the_timing_inputs_is_not_run_again(
    monkeypatch, mlp_model, tmp_path
):
    """The failure is cached like a cost: a warm session neither times nor retries it."""
    monkeypatch.setenv("XINRT_CACHE_DIR", str(tmp_path))
    calls: list[tuple[str, str]] = []
    real_time = _Placer._time

    def ort_whole_fails(self, backend, run, what, **kwargs):
        calls.append((what, backend))
        if (what, backend) == ("whole", "ort"):
            raise RuntimeError("indices element out of data bounds")
        return real_time(self, backend, run, what, **kwargs)

    monkeypatch.setattr(_Placer, "_time", ort_whole_fails)
    first = InferenceSession(mlp_model, backends=["cpu", "ort"])
    assert ("whole", "ort") in calls
    assert [p.backend for p in first.placement.partitions] == ["cpu"]
    calls.clear()
    second = InferenceSession(mlp_model, backends=["cpu", "ort"])
    assert ("whole", "ort") not in calls
    notes = second.placement.decision["notes"]
    assert any("whole model on ort failed" in n and n.endswith("(cached)") for n in notes)
    np.testing.assert_allclose(
        second.run(None, _mlp_feeds())[0], _expected(mlp_model, _mlp_feeds()), rtol=1e-5, atol=1e-6
    )
