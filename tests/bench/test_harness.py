"""The harness: accuracy catches a wrong target, every target has the same JSON keys, the
benchmark models are valid and agree between ORT and the reference."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

import xinrt.bench
from xinrt.bench import BenchConfig, Target, check_accuracy, measure_targets, run_benchmark
from xinrt.bench.models import one_node_model, transformer_encoder
from xinrt.bench.report import format_table, json_safe

RESULT_KEYS = {
    "name",
    "kind",
    "backends",
    "status",
    "reason",
    "session_create_s",
    "compile_s",
    "first_run_ms",
    "placement",
    "samples_per_query",
    "runs_per_query",
    "rounds",
    "latency_ms",
    "throughput_samples_per_s",
    "server",
    "accuracy",
    "latencies_ms",
}
DOCUMENT_KEYS = {
    "schema",
    "model",
    "scenario",
    "date",
    "config",
    "machine",
    "notes",
    "peak_rss_mib",
    "results",
    "comparisons",
}


def fake_target(name: str, outputs: list[np.ndarray]) -> Target:
    return Target(
        name=name,
        kind="xinrt" if name != "onnxruntime" else "onnxruntime",
        run=lambda feeds: [o.copy() for o in outputs],
    )


def test_check_accuracy_passes_within_tolerance_and_fails_outside():
    expected = [np.linspace(-1, 1, 50, dtype=np.float32)]
    close = check_accuracy([expected[0] + 5e-5], expected, rtol=1e-3, atol=1e-4)
    assert close["passed"] and close["max_abs_error"] == pytest.approx(5e-5, rel=1e-2)
    wrong = check_accuracy([expected[0] * 1.1], expected, rtol=1e-3, atol=1e-4)
    assert not wrong["passed"]
    assert wrong["max_rel_error"] == pytest.approx(0.1, rel=1e-3)
    assert "outside tolerance" in wrong["reason"]


def test_check_accuracy_reports_the_relative_l2_error_of_the_worst_output():
    expected = [np.linspace(1, 2, 50, dtype=np.float32), np.ones(8, np.float32)]
    got = [expected[0] * np.float32(1.004), expected[1]]  # 0.4%: bf16's scale of error
    result = check_accuracy(got, expected, rtol=1e-2, atol=1e-4)
    assert result["passed"] and result["rel_l2_error"] == pytest.approx(4e-3, rel=1e-2)


def test_check_accuracy_fails_on_nan_shape_and_output_count():
    expected = [np.ones(4, np.float32)]
    assert not check_accuracy([np.array([1, 1, np.nan, 1], np.float32)], expected, 1e-3, 1e-4)[
        "passed"
    ]
    assert not check_accuracy([np.ones(5, np.float32)], expected, 1e-3, 1e-4)["passed"]
    assert not check_accuracy([], expected, 1e-3, 1e-4)["passed"]


def test_accuracy_flag_catches_a_fast_wrong_target():
    expected = [np.arange(12, dtype=np.float32).reshape(3, 4)]
    targets = [
        fake_target("right", expected),
        fake_target("wrong", [expected[0] + 0.5]),
        fake_target("onnxruntime", expected),
    ]
    config = BenchConfig(model=None, iterations=3, warmup=1, accuracy=True)
    document = measure_targets(config, targets, {"x": np.zeros((1, 4), np.float32)}, 1, expected)
    verdicts = {r["name"]: r["accuracy"]["passed"] for r in document["results"]}
    assert verdicts == {"right": True, "wrong": False, "onnxruntime": True}
    assert [c["target"] for c in document["comparisons"]] == ["right", "wrong"]
    assert all(c["ratio"]["pairs"] == 3 for c in document["comparisons"])


def test_every_target_has_the_documented_keys(tmp_path):
    config = BenchConfig(
        model=one_node_model(),
        backend_lists=[["reference"]],
        compare_ort=True,
        iterations=3,
        warmup=1,
        accuracy=True,
    )
    document = run_benchmark(config)
    assert set(document) == DOCUMENT_KEYS
    assert document["schema"] == "xinrt.bench/1"
    assert [r["name"] for r in document["results"]] == ["reference", "onnxruntime"]
    for result in document["results"]:
        assert set(result) == RESULT_KEYS
        assert result["status"] == "ok" and result["rounds"] == 3
        assert result["accuracy"]["passed"]
        assert set(result["latency_ms"]) == {"count", "mean", "min", "p50", "p90", "p99", "max"}
    assert document["results"][0]["placement"]["partitions"] == {"reference": 1}
    json.dumps(json_safe(document), allow_nan=False)
    for key in RESULT_KEYS | DOCUMENT_KEYS:  # the schema in the package docstring names each
        assert key in xinrt.bench.__doc__
    assert "ratio reference / onnxruntime" in format_table(document)


def test_a_backend_list_that_cannot_run_the_model_is_recorded_not_raised():
    if "cpu" not in xinrt.available_backends():
        pytest.skip("the native cpu backend is not built here")
    nodes = [onnx.helper.make_node("Det", ["x"], ["y"], name="det")]
    graph = onnx.helper.make_graph(
        nodes,
        "det",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 2])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [])],
    )
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    model.ir_version = 8
    config = BenchConfig(
        model=model, backend_lists=[["cpu"], ["reference"]], iterations=2, warmup=0
    )
    results = {r["name"]: r for r in run_benchmark(config)["results"]}
    assert results["cpu"]["status"] == "cannot run"
    assert "Det x1" in results["cpu"]["reason"]
    assert set(results["cpu"]) == RESULT_KEYS
    assert results["reference"]["status"] == "ok"


def test_static_batch_dimension_makes_multi_stream_concatenate_runs():
    config = BenchConfig(
        model=one_node_model(),
        backend_lists=[["reference"]],
        scenario="multi-stream",
        batch=4,
        iterations=2,
        warmup=0,
    )
    document = run_benchmark(config)
    result = document["results"][0]
    assert result["runs_per_query"] == 4 and result["samples_per_query"] == 4
    assert "concatenates 4 runs" in document["notes"][0]


@pytest.mark.parametrize("fused", [True, False])
def test_encoder_builder_is_valid_and_ort_agrees_with_reference(fused):
    ort = pytest.importorskip("onnxruntime")
    from onnx.reference import ReferenceEvaluator

    model = transformer_encoder(layers=1, hidden=16, heads=2, sequence=4, fused_layer_norm=fused)
    ops = {n.op_type for n in model.graph.node}
    assert {"Erf", "Softmax", "Transpose", "Reshape", "MatMul"} <= ops
    assert ("LayerNormalization" in ops) == fused
    x = np.random.default_rng(0).standard_normal((1, 4, 16)).astype(np.float32)
    got = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, {"hidden_states": x}
    )
    want = ReferenceEvaluator(model).run(None, {"hidden_states": x})
    assert got[0].shape == (1, 4, 16)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-4)
    assert np.abs(got[0].mean(axis=-1)).max() < 1e-4  # LayerNorm output: zero mean per token
