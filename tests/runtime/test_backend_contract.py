"""The backend contract seen from the session, with a plugin backend registered in-test:
entry-point discovery, maybe-until-compiled, compile-time declines, executable reports."""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pytest

import xinrt
from xinrt import backend as backend_module
from xinrt.backend import SUPPORTED, Backend, Device, Support, SupportLevel, unsupported
from xinrt.errors import UnsupportedError


class _NegExecutable:
    report = {"device": "fake-npu (simulator)", "precision": "fp32"}

    def __init__(self, partition):
        self.partition = partition

    def run(self, feeds):
        (node,) = self.partition.nodes
        return {node.outputs[0].name: -feeds[node.inputs[0].name]}


class FakeNpu(Backend):
    """Claims Neg for sure and Relu as 'maybe'; at compile it declines Relu."""

    def __init__(self, target=None):
        self.name = "fakenpu"
        self.compiled: list[list[str]] = []

    def devices(self):
        return [Device("fake NPU", "simulator")]

    def capability(self, graph):
        answers: dict[str, Support] = {}
        for node in graph:
            if node.op_type == "Neg":
                answers[node.name] = SUPPORTED
            elif node.op_type == "Relu":
                answers[node.name] = Support(SupportLevel.MAYBE)
            else:
                answers[node.name] = unsupported(f"fake NPU has no {node.op_type}")
        return answers

    def compile(self, partition, options):
        self.compiled.append([n.op_type for n in partition.nodes])
        relus = [n.name for n in partition.nodes if n.op_type == "Relu"]
        if relus:
            raise UnsupportedError(
                "Relu needs a calibration table",
                {name: "Relu needs a calibration table" for name in relus},
            )
        return _NegExecutable(partition)


@pytest.fixture
def fake_npu(monkeypatch):
    real = backend_module._entry_points()
    entry = metadata.EntryPoint("fakenpu", f"{__name__}:FakeNpu", "xinrt.backends")
    monkeypatch.setattr(backend_module, "_entry_points", lambda: {**real, "fakenpu": entry})
    backend_module.get_backend.cache_clear()
    yield
    backend_module.get_backend.cache_clear()


def test_plugin_found_by_entry_point_and_listed(fake_npu):
    assert "fakenpu" in xinrt.available_backends()
    assert xinrt.backend_info()["fakenpu"]["devices"][0]["kind"] == "simulator"


PRIORITY = xinrt.SessionOptions(placement="priority")


def test_maybe_node_declined_at_compile_is_placed_again(fake_npu, det_model):
    session = xinrt.InferenceSession(det_model, PRIORITY, backends=["fakenpu", "cpu", "ort"])
    by_node = {n.name: n for n in session.placement.nodes}
    assert by_node["neg"].backend == "fakenpu"
    assert by_node["relu"].backend == "cpu"
    assert (
        "declined at compile: Relu needs a calibration table" in by_node["relu"].declined["fakenpu"]
    )
    x = np.random.default_rng(4).standard_normal((2, 3, 3)).astype(np.float32)
    want = xinrt.InferenceSession(det_model, backends=["ort"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(session.run(None, {"x": x})[0], want, rtol=1e-4, atol=1e-5)


def test_maybe_node_declined_while_timing_is_placed_again_under_fastest(fake_npu, det_model):
    session = xinrt.InferenceSession(det_model, backends=["fakenpu", "cpu", "ort"])
    by_node = {n.name: n for n in session.placement.nodes}
    assert by_node["relu"].backend != "fakenpu"
    assert "declined at compile: Relu needs a calibration table" in str(
        by_node["relu"].declined["fakenpu"]
    )
    assert session.placement.decision["mode"] == "fastest"
    x = np.random.default_rng(4).standard_normal((2, 3, 3)).astype(np.float32)
    want = xinrt.InferenceSession(det_model, backends=["ort"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(session.run(None, {"x": x})[0], want, rtol=1e-4, atol=1e-5)


def test_executable_report_reaches_the_placement_report(fake_npu, det_model):
    session = xinrt.InferenceSession(det_model, PRIORITY, backends=["fakenpu", "cpu", "ort"])
    neg = next(p for p in session.placement.partitions if p.backend == "fakenpu")
    assert neg.details == {"device": "fake-npu (simulator)", "precision": "fp32"}
    assert "device=fake-npu (simulator)" in str(session.placement)


def test_precision_is_validated():
    with pytest.raises(xinrt.InvalidArgumentError, match="precision"):
        xinrt.SessionOptions(precision="int3").validate()
    options = xinrt.SessionOptions(precision={"fakenpu": "int8"})
    options.validate()
    assert options.precision_for("fakenpu") == "int8" and options.precision_for("cpu") == ""


class BuggyNpu(FakeNpu):
    """Claims Neg, then fails compiling it with a plain bug (not a decline)."""

    def __init__(self, target=None):
        super().__init__(target)
        self.name = "buggynpu"

    def capability(self, graph):
        return {
            n.name: SUPPORTED if n.op_type == "Neg" else unsupported(f"no {n.op_type}")
            for n in graph
        }

    def compile(self, partition, options):
        raise ValueError("shape table index 7 out of range")


@pytest.fixture
def buggy_npu(monkeypatch):
    real = backend_module._entry_points()
    entry = metadata.EntryPoint("buggynpu", f"{__name__}:BuggyNpu", "xinrt.backends")
    monkeypatch.setattr(backend_module, "_entry_points", lambda: {**real, "buggynpu": entry})
    backend_module.get_backend.cache_clear()
    yield
    backend_module.get_backend.cache_clear()


@pytest.mark.parametrize("placement", ["priority", "fastest"])
def test_a_backend_error_at_compile_fails_the_session_naming_backend_and_partition(
    buggy_npu, det_model, placement
):
    options = xinrt.SessionOptions(placement=placement)
    with pytest.raises(
        xinrt.ExecutionError,
        match="backend 'buggynpu' failed compiling partition \\d+ \\(1 nodes, first 'neg'\\): "
        "ValueError: shape table index 7 out of range.*fallback_on_backend_error",
    ):
        xinrt.InferenceSession(det_model, options, backends=["buggynpu", "cpu", "ort"])


@pytest.mark.parametrize("placement", ["priority", "fastest"])
def test_fallback_on_backend_error_places_elsewhere_and_reports_it(buggy_npu, det_model, placement):
    options = xinrt.SessionOptions(placement=placement, fallback_on_backend_error=True)
    session = xinrt.InferenceSession(det_model, options, backends=["buggynpu", "cpu", "ort"])
    by_node = {n.name: n for n in session.placement.nodes}
    assert by_node["neg"].backend in ("cpu", "ort")
    (fallback,) = session.placement.fallbacks
    assert fallback["backend"] == "buggynpu" and fallback["first_node"] == "neg"
    assert fallback["error"] == "ValueError: shape table index 7 out of range"
    assert "fell back from buggynpu" in str(session.placement)
    assert "compile failed: ValueError" in by_node["neg"].declined["buggynpu"]
    x = np.random.default_rng(5).standard_normal((2, 3, 3)).astype(np.float32)
    want = xinrt.InferenceSession(det_model, backends=["ort"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(session.run(None, {"x": x})[0], want, rtol=1e-4, atol=1e-5)
