"""`xinrt compare`: output errors, and the first divergent node of a backend wrong on purpose."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from onnx.reference.op_run import OpRun

import xinrt.backend as backend_module
from xinrt import InvalidArgumentError
from xinrt.backend import SUPPORTED, Backend, CompileOptions, Device, Support
from xinrt.conformance.compare import (
    compare_backends,
    diff_tensors,
    register,
    topological_nodes,
    with_all_node_outputs,
)


class _WrongTanh(OpRun):
    op_domain = ""

    def _run(self, x):  # type: ignore[no-untyped-def]
        return (np.tanh(x) * np.float32(1.1),)  # 10% off: the bug the bisection must find


class _WrongExecutable:
    def __init__(self, model: onnx.ModelProto) -> None:
        self._outputs = [o.name for o in model.graph.output]
        self._evaluator = ReferenceEvaluator(model, new_ops=[type("Tanh", (_WrongTanh,), {})])

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self._outputs, self._evaluator.run(None, feeds)))


class WrongTanhBackend(Backend):
    """A tiny backend that claims every node and computes Tanh wrong."""

    def __init__(self, target: str | None = None) -> None:
        self.name = "wrongtanh"

    def devices(self) -> list[Device]:
        return [Device("test", "cpu")]

    def capability(self, graph) -> dict[str, Support]:  # type: ignore[no-untyped-def]
        return {node.name: SUPPORTED for node in graph}

    def compile(self, partition, options: CompileOptions) -> _WrongExecutable:  # type: ignore[no-untyped-def]
        return _WrongExecutable(partition.to_model_proto())


@pytest.fixture
def wrong_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Register WrongTanhBackend under the entry-point name `wrongtanh` for one test."""
    real = backend_module._entry_points()
    fake = metadata.EntryPoint(
        name="wrongtanh",
        value=f"{__name__}:WrongTanhBackend",
        group=backend_module.ENTRY_POINT_GROUP,
    )
    monkeypatch.setattr(backend_module, "_entry_points", lambda: {**real, "wrongtanh": fake})
    backend_module.get_backend.cache_clear()
    yield "wrongtanh"
    backend_module.get_backend.cache_clear()


def _mlp() -> onnx.ModelProto:
    """x -> MatMul -> Add -> Tanh -> MatMul -> Relu -> y (Tanh is node 3 of 5)."""
    rng = np.random.default_rng(1)
    inits = [
        numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
        for n, s in (("w1", (4, 8)), ("b1", (8,)), ("w2", (8, 3)))
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="mm1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="add"),
        helper.make_node("Tanh", ["h1"], ["h2"], name="tanh"),
        helper.make_node("MatMul", ["h2", "w2"], ["h3"], name="mm2"),
        helper.make_node("Relu", ["h3"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_first_divergent_node_is_the_wrong_one(wrong_backend: str) -> None:
    report = compare_backends(_mlp(), [wrong_backend], ["reference"], seed=3, dims={"N": 5})
    assert not report.agree
    (output,) = report.outputs
    assert output.name == "y" and not output.close and output.max_abs_error > 0
    div = report.first_divergence
    assert div is not None
    assert (div.node, div.op_type, div.position, div.nodes) == ("tanh", "Tanh", 2, 5)
    assert div.inputs_agree
    assert div.output.max_rel_error == pytest.approx(0.1, rel=1e-3)
    assert "first divergent node: tanh (Tanh)" in str(report)


def test_agreeing_chains_report_no_divergence() -> None:
    report = compare_backends(_mlp(), ["cpu"], ["reference"], seed=0, dims={"N": 2})
    assert report.agree and report.first_divergence is None
    assert report.outputs[0].cosine == pytest.approx(1.0)
    assert json.loads(json.dumps(report.to_dict()))["agree"] is True


def test_instrumented_copy_outputs_every_typed_node_output() -> None:
    copy, order = with_all_node_outputs(_mlp())
    assert [n.name for n in order] == ["mm1", "add", "tanh", "mm2", "relu"]
    assert [o.name for o in copy.graph.output] == ["y", "h0", "h1", "h2", "h3"]
    assert all(o.type.tensor_type.elem_type == TensorProto.FLOAT for o in copy.graph.output)
    onnx.checker.check_model(copy)


def test_topological_order_fixes_a_shuffled_graph() -> None:
    model = _mlp()
    nodes = list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(reversed(nodes))
    assert [n.name for n in topological_nodes(model.graph)] == ["mm1", "add", "tanh", "mm2", "relu"]


def test_diff_tensors_metrics() -> None:
    a = np.array([1.0, 2.0, 4.0], np.float32)
    same = diff_tensors("t", a, a, 1e-3, 1e-5)
    assert same.close and same.max_abs_error == 0 and same.cosine == pytest.approx(1.0)
    off = diff_tensors("t", a, a * 1.5, 1e-3, 1e-5)
    assert not off.close and off.max_abs_error == pytest.approx(2.0)
    assert off.max_rel_error == pytest.approx(0.5)
    assert not diff_tensors("t", a, a[:2], 1e-3, 1e-5).close


def test_cli_exit_codes_and_bad_arguments(
    wrong_backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mlp.onnx"
    onnx.save(_mlp(), path)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["compare", str(path), "--backends", wrong_backend, "--dim", "N=2"])
    assert args.func(args) == 1
    assert "first divergent node: tanh" in capsys.readouterr().out
    args = parser.parse_args(["compare", str(path), "--backends", "cpu", "--dim", "N=2", "--json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["agree"] is True
    args = parser.parse_args(["compare", str(path), "--backends", ",", "--dim", "N=2"])
    with pytest.raises(InvalidArgumentError):
        args.func(args)
    args = parser.parse_args(["compare", str(path), "--backends", "cpu"])  # N not given
    with pytest.raises(InvalidArgumentError, match="--dim N="):
        args.func(args)
