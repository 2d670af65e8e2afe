"""The example (template) backend on its fake SDK, end to end through InferenceSession:
probes, heterogeneous placement, verify-before-use, crash/hang isolation, compile cache."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

import xinrt
from tests.backends.example.registered import registered_example
from xinrt import backend as backend_module
from xinrt import compile_cache
from xinrt.backends.example.backend import ExampleBackend


@pytest.fixture(autouse=True)
def example_backend(tmp_path, monkeypatch):
    """Register `example` (as pyproject does once installed) with a private cache folder."""
    # What the backend compiles and runs is under test; "fastest" placement would rightly give
    # the nodes to cpu, faster than the fake SDK's worker process.
    monkeypatch.setenv("XINRT_PLACEMENT", "priority")
    yield from registered_example(monkeypatch, tmp_path)


def _model(second_op="Det", relu_name="relu", batch=2):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 3])
    nodes = [helper.make_node("Relu", ["x"], ["r"], name=relu_name)]
    if second_op == "Det":
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch])
        nodes.append(helper.make_node("Det", ["r"], ["y"], name="det"))
    else:
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 3, 3])
        nodes.append(helper.make_node(second_op, ["r"], ["y"], name="second"))
    model = helper.make_model(
        helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 13)]
    )
    model.ir_version = 8
    return model


def _feeds(batch=2):
    return {"x": np.random.default_rng(3).standard_normal((batch, 3, 3)).astype(np.float32)}


def _by_node(session):
    return {n.name: n for n in session.placement.nodes}


def test_listed_as_a_simulator_device():
    info = xinrt.backend_info()["example"]
    assert info["devices"][0]["kind"] == "simulator"


def test_relu_on_the_npu_and_det_on_the_cpu_with_reasons():
    model = _model()
    session = xinrt.InferenceSession(model, backends=["example:v1", "cpu", "reference"])
    nodes = _by_node(session)
    assert nodes["relu"].backend == "example:v1"
    assert nodes["det"].backend in ("cpu", "reference")
    assert "documented op list" in nodes["det"].declined["example:v1"]
    npu = next(p for p in session.placement.partitions if p.backend == "example:v1")
    assert npu.details["device"] == "v1 (simulator)" and npu.details["precision"] == "fp32"
    assert npu.details["max_abs_err"] == 0.0 and npu.details["cache"] == "miss"
    want = xinrt.InferenceSession(model, backends=["reference"]).run(None, _feeds())[0]
    np.testing.assert_allclose(session.run(None, _feeds())[0], want, rtol=1e-5, atol=1e-6)


def test_fp16_is_verified_within_its_tolerance():
    options = xinrt.SessionOptions(precision={"example:v1": "fp16"})
    session = xinrt.InferenceSession(_model("Sigmoid"), options, backends=["example:v1", "cpu"])
    (partition,) = session.placement.partitions
    assert partition.backend == "example:v1" and partition.details["precision"] == "fp16"
    assert 0 < partition.details["max_abs_err"] <= 1e-3


def test_unsupported_precision_declines_to_the_next_backend(monkeypatch):
    monkeypatch.setattr(ExampleBackend, "precisions", ("fp32", "fp16"))  # a chip without int8
    options = xinrt.SessionOptions(precision={"example:v1": "int8"})
    session = xinrt.InferenceSession(_model("Neg"), options, backends=["example:v1", "cpu"])
    assert all(n.backend == "cpu" for n in session.placement.nodes)
    assert "not int8" in _by_node(session)["second"].declined["example:v1"]


def test_bf16_is_declined_by_a_backend_that_does_not_compile_for_it():
    options = xinrt.SessionOptions(precision="bf16")  # every backend: cpu runs it
    session = xinrt.InferenceSession(_model("Neg"), options, backends=["example:v1", "cpu"])
    assert all(n.backend == "cpu" for n in session.placement.nodes)
    assert "not bf16" in _by_node(session)["second"].declined["example:v1"]


def test_a_wrong_result_is_refused_with_the_figures():
    session = xinrt.InferenceSession(
        _model("Neg", relu_name="wrong_me"), backends=["example:v1", "cpu"]
    )
    reason = _by_node(session)["wrong_me"].declined["example:v1"]
    assert "differs from the reference" in reason and "max abs error 1" in reason


def test_an_sdk_crash_at_probe_declines_the_node_and_names_the_sdk():
    session = xinrt.InferenceSession(
        _model("Neg", relu_name="crash_me"), backends=["example:v1", "cpu"]
    )
    nodes = _by_node(session)
    assert nodes["crash_me"].backend == "cpu"
    assert "fake_sdk 1.0.0 fails on it" in nodes["crash_me"].declined["example:v1"]
    assert "worker died" in nodes["crash_me"].declined["example:v1"]
    assert nodes["second"].backend == "example:v1", "the worker was restarted for the rest"


def test_a_hang_at_compile_times_out_and_falls_back(monkeypatch):
    monkeypatch.setattr(ExampleBackend, "compile_timeout_s", 2.0)
    monkeypatch.setattr(ExampleBackend, "capability", _claim_everything)
    session = xinrt.InferenceSession(
        _model("Neg", relu_name="hang_me"), backends=["example:v1", "cpu"]
    )
    reason = _by_node(session)["hang_me"].declined["example:v1"]
    assert "no answer in time" in reason and "partition 0" in reason


def _claim_everything(self, graph):
    return {n.name: xinrt.Support(xinrt.SupportLevel.YES) for n in graph}


def test_a_crash_at_run_is_an_execution_error_and_the_session_recovers():
    session = xinrt.InferenceSession(_model("Neg"), backends=["example:v1", "cpu"])
    bad = {"x": np.full((2, 3, 3), np.nan, np.float32)}  # the fake SDK aborts on NaN
    with pytest.raises(xinrt.ExecutionError, match="example:v1 .*partition 0.*worker died"):
        session.run(None, bad)
    out = session.run(None, _feeds())[0]  # rebuilt in a fresh worker (from the cache)
    np.testing.assert_allclose(out, -np.maximum(_feeds()["x"], 0))


def test_a_worker_killed_between_runs_is_replaced_transparently():
    session = xinrt.InferenceSession(_model("Neg"), backends=["example:v1", "cpu"])
    backend = backend_module.get_backend("example:v1")
    assert isinstance(backend, ExampleBackend)
    backend.worker.close()
    out = session.run(None, _feeds())[0]
    np.testing.assert_allclose(out, -np.maximum(_feeds()["x"], 0))
    assert backend.worker.starts == 2


def test_second_compile_hits_the_cache():
    first = xinrt.InferenceSession(_model("Neg"), backends=["example:v1", "cpu"])
    second = xinrt.InferenceSession(_model("Neg"), backends=["example:v1", "cpu"])
    assert first.placement.partitions[0].details["cache"] == "miss"
    details = second.placement.partitions[0].details
    assert details["cache"] == "hit" and "saved_s" in details
    assert [e.backend for e in compile_cache.entries()] == ["example:v1"]


def test_symbolic_batch_compiles_once_per_shape():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    model = helper.make_model(
        helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "g", [x], [y]),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    session = xinrt.InferenceSession(model, backends=["example:v1", "cpu"])
    assert session.placement.partitions[0].backend == "example:v1"
    for batch in (1, 3, 1):
        feed = np.random.default_rng(batch).standard_normal((batch, 4)).astype(np.float32)
        np.testing.assert_array_equal(session.run(None, {"x": feed})[0], np.maximum(feed, 0))
    assert len(compile_cache.entries("example:v1")) == 2
