"""Executor: partitions run in order, intermediates are freed after their last reader, and each
backend's busy time is counted."""

from __future__ import annotations

import time

import numpy as np
import onnx
import onnx_ir as ir
import pytest
from onnx import helper

from tests.helpers import make_model, tensor
from xinrt.errors import ExecutionError
from xinrt.executor import BackendBusy, Executor
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


class _Sleeper:
    """A fake executable that takes `seconds` and negates its input (or fails, if told)."""

    def __init__(self, partition, seconds, fail=False):
        self.partition, self.seconds, self.fail = partition, seconds, fail

    def run(self, feeds):
        time.sleep(self.seconds)
        if self.fail:
            raise RuntimeError("device lost")
        (value,) = feeds.values()
        return {v.name: -value for v in self.partition.outputs}


def test_busy_time_is_counted_per_backend_and_within_the_run():
    graph = _chain()
    parts = partition_graph(graph, {"n1": "A", "n2": "B", "n3": "A"}, ir_version=8)
    seconds = {"A": 0.004, "B": 0.01}
    steps = [(p, _Sleeper(p, seconds[p.backend])) for p in parts]
    executor = Executor(steps, ["y"], {}, BackendBusy())
    x = np.array([1.0, -2.0, 3.0], np.float32)
    started = time.perf_counter()
    for _ in range(3):
        executor.run({"x": x}, ["y"])
    wall = time.perf_counter() - started
    assert executor.busy is not None
    busy = executor.busy.seconds()
    assert sorted(busy) == ["A", "B"]
    assert busy["A"] >= 3 * 2 * seconds["A"] and busy["B"] >= 3 * seconds["B"]  # sleep's floor
    assert busy["A"] + busy["B"] <= wall  # the partitions' runs lie within the runs


def test_a_failed_partition_run_counts_as_busy_and_a_shared_counter_keeps_adding():
    graph = _chain()
    parts = partition_graph(graph, {"n1": "A", "n2": "B", "n3": "A"}, ir_version=8)
    busy = BackendBusy()
    failing = Executor(
        [(p, _Sleeper(p, 0.002, fail=p.backend == "B")) for p in parts], ["y"], {}, busy
    )
    with pytest.raises(ExecutionError, match="backend B failed"):
        failing.run({"x": np.ones(3, np.float32)}, ["y"])
    first = busy.seconds()
    assert sorted(first) == ["A", "B"] and first["B"] >= 0.002
    working = Executor([(p, _Sleeper(p, 0.002)) for p in parts], ["y"], {}, busy)
    working.run({"x": np.ones(3, np.float32)}, ["y"])
    second = busy.seconds()
    assert second["A"] >= first["A"] + 0.004 and second["B"] >= first["B"] + 0.002


def test_busy_time_is_not_counted_unless_asked():
    graph = _chain()
    parts = partition_graph(graph, {"n1": "A", "n2": "B", "n3": "A"}, ir_version=8)
    executor = Executor([(p, _Sleeper(p, 0.0)) for p in parts], ["y"], {})
    executor.run({"x": np.ones(3, np.float32)}, ["y"])
    assert executor.busy is None
