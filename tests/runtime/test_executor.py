"""Executor: partitions run in order, intermediates are freed after their last reader."""

from __future__ import annotations

import numpy as np
import onnx
import onnx_ir as ir
from onnx import helper

from tests.helpers import make_model, tensor
from xinrt.executor import Executor
from xinrt.partition import partition_graph


class _Recorder:
    """A fake executable: runs the partition's nodes with numpy and records what it saw."""

    def __init__(self, partition, log, live):
        self.partition, self.log, self.live = partition, log, live

    def run(self, feeds):
        self.log.append((self.partition.index, sorted(feeds)))
        out = {}
        for node in self.partition.nodes:
            x = feeds.get(node.inputs[0].name, out.get(node.inputs[0].name))
            out[node.outputs[0].name] = -x if node.op_type == "Neg" else np.abs(x)
        return out


def _chain():
    nodes = [
        helper.make_node("Neg", ["x"], ["a"], name="n1"),
        helper.make_node("Abs", ["a"], ["b"], name="n2"),
        helper.make_node("Neg", ["b"], ["y"], name="n3"),
    ]
    model = onnx.shape_inference.infer_shapes(
        make_model(nodes, [tensor("x", [3])], [tensor("y", [3])])
    )
    return ir.from_proto(model).graph


def test_runs_in_order_and_frees_after_last_reader():
    graph = _chain()
    parts = partition_graph(graph, {"n1": "A", "n2": "B", "n3": "A"}, ir_version=8)
    log: list = []
    executor = Executor([(p, _Recorder(p, log, None)) for p in parts], ["y"], {})
    (y,) = executor.run({"x": np.array([1.0, -2.0, 3.0], np.float32)}, ["y"])
    assert y.tolist() == [-1.0, -2.0, -3.0]
    assert log == [(0, ["x"]), (1, ["a"]), (2, ["b"])]
    assert executor._free_after == [["x"], ["a"], ["b"]]
