"""`check_model` and the child-process runner on tiny models: results are data, never crashes."""

from __future__ import annotations

import time

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt.corpus import FeedSpec, ModelEntry
from xinrt.corpus.check import MAX_RUNS_PER_QUERY, MIN_QUERY_S, _runs_per_query, check_model
from xinrt.corpus.report import counts, failures, markdown, merge
from xinrt.corpus.runner import run_child


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("XINRT_CORPUS_DIR", str(tmp_path))
    return tmp_path


def _mlp_entry(corpus, name: str = "tiny-mlp") -> ModelEntry:
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
        helper.make_node("Relu", ["h"], ["y"], name="relu"),
        helper.make_node("Reshape", ["h", "shape"], ["hsq"], name="reshape"),
        helper.make_node("Mul", ["hsq", "hsq"], ["sq"], name="square"),
        helper.make_node("Det", ["sq"], ["d"], name="det"),
    ]
    shape = numpy_helper.from_array(np.array([2, 2, 2], np.int64), "shape")
    model = make_model(
        nodes, [tensor("x", [2, 8])], [tensor("y", [2, 4]), tensor("d", [2])], [w, shape]
    )
    onnx.save(model, corpus / f"{name}.onnx")
    return ModelEntry(
        name=name,
        group="torch",
        task="test",
        source="onnx.helper",
        builder=lambda path: None,
        feeds=FeedSpec(),
    )


def test_check_model_matches_ort_and_reports_placement(corpus):
    entry = _mlp_entry(corpus)
    result = check_model(entry, ["ort", "default", "cpu"], threads=[])
    assert result["status"] == "checked"
    assert result["configs"]["ort"]["status"] == "ok"
    default = result["configs"]["default"]
    assert default["status"] == "ok" and default["match"] is True
    # Det is not a cpu op: ort runs it, beside cpu or (placement "fastest") the whole model
    assert default["placement"]["share"]["ort"] > 0
    assert default["placement"]["declined"]["cpu"] == {"Det": 1}
    cpu = result["configs"]["cpu"]
    assert cpu["status"] == "declined" and cpu["declined"] == {"Det": 1}


def test_latency_ratio_is_measured_against_ort(corpus):
    entry = _mlp_entry(corpus)
    result = check_model(entry, ["ort"], threads=[1], iterations=2, timed=["ort"])
    ratio = result["configs"]["ort"]["ratio"]["1"]
    assert isinstance(ratio, float) and ratio > 0


def test_a_fast_model_repeats_its_run_in_each_timed_query():
    class Run:
        def __init__(self, seconds: float) -> None:
            self.seconds, self.calls = seconds, 0

        def run(self, feeds: dict) -> None:
            self.calls += 1
            if self.seconds:
                time.sleep(self.seconds)

    fast, slow = Run(0.0), Run(MIN_QUERY_S)
    assert _runs_per_query(fast, {}) == MAX_RUNS_PER_QUERY and fast.calls == 3
    assert _runs_per_query(slow, {}) == 1


def test_a_model_ort_refuses_and_a_missing_model_are_recorded(corpus):
    entry = _mlp_entry(corpus, "broken")
    entry.path.write_bytes(b"not an onnx file")
    assert check_model(entry, ["ort"], threads=[])["status"] == "ort fails"
    entry.path.unlink()
    assert check_model(entry, ["ort"], threads=[])["status"] == "not built"


def test_a_failing_child_process_is_recorded_not_raised(corpus):
    entry = _mlp_entry(corpus, "not-in-the-registry")
    result = run_child(entry, ["ort", "default"], [], 1, timeout_s=120)
    assert result["configs"]["ort"]["status"] == "crashed"
    assert "unknown corpus model" in result["child"]


def test_markdown_counts_configurations_and_lists_failures(corpus):
    entry = _mlp_entry(corpus)
    document = {
        "date": "today",
        "configs": ["ort", "cpu"],
        "machine": {},
        "models": [check_model(entry, ["ort", "cpu"], threads=[])],
    }
    table = counts(document)
    assert table["ort"] == {"models": 1, "loads": 1, "matches": 1, "declined": 0, "not run": 0}
    assert table["cpu"]["declined"] == 1
    assert failures(document)[0][:3] == ("tiny-mlp", "cpu", "declined")
    page = markdown(document, "xinrt corpus check")
    assert "| Det | 1 |" in page and "| tiny-mlp |" in page


def test_runs_merge_later_results_over_earlier_ones():
    first = {
        "date": "1",
        "configs": ["ort"],
        "models": [{"name": "a", "configs": {}}, {"name": "b", "configs": {}}],
    }
    second = {"date": "2", "configs": ["ort", "cpu"], "models": [{"name": "b", "status": "x"}]}
    merged = merge([first, second])
    assert merged["configs"] == ["ort", "cpu"] and merged["date"] == "2"
    assert [m["name"] for m in merged["models"]] == ["a", "b"]
    assert merged["models"][1]["status"] == "x"
