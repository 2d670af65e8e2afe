"""Run a model on [<ort backend>, "cpu"] in a fresh process and print what happened as JSON.

    python -m tests.backends.ort.ep_worker ort:webgpu resnet50|transformer|compile-decline

A separate process because plugin EP packages register once per process, when the first `ort`
backend loads, and read their environment (ORT_WEBGPU_EP_ALLOW_SOFTWARE_ADAPTER) only then.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

import xinrt
from xinrt.backend import CompileOptions, get_backend
from xinrt.bench.models import transformer_encoder
from xinrt.errors import UnsupportedError
from xinrt.model import load_model
from xinrt.partition import partition_graph
from xinrt.testing import model_input_feeds, randomized_light_model


def _model(name: str) -> onnx.ModelProto:
    if name == "transformer":
        return transformer_encoder(layers=2, hidden=64, heads=4, sequence=16, seed=3)
    return randomized_light_model(name)


def _compile_declines(backend_name: str) -> dict[str, object]:
    """Compile a partition holding a node the EP has no kernel for (opset-9 Sum on WebGPU):
    the EP-only session fails, and only that node must be declined."""
    model = helper.make_model(
        helper.make_graph(
            [
                helper.make_node("Relu", ["x"], ["r"], name="relu"),
                helper.make_node("Sum", ["r", "x"], ["s"], name="sum"),
                helper.make_node("Sigmoid", ["s"], ["y"], name="sigmoid"),
            ],
            "decline",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
        ),
        opset_imports=[helper.make_opsetid("", 9)],
    )
    model.ir_version = 7
    graph = load_model(model).ir_model.graph
    (partition,) = partition_graph(graph, {n.name: backend_name for n in graph}, ir_version=7)
    try:
        get_backend(backend_name).compile(partition, CompileOptions())
    except UnsupportedError as exc:
        return {"declined": exc.node_reasons}
    return {"declined": {}}


def main(backend_name: str, model_name: str) -> dict[str, object]:
    backend = get_backend(backend_name)
    if not backend.devices():
        return {"unavailable": backend.unavailable_reason(), "doctor": backend.doctor()}  # type: ignore[attr-defined]
    if model_name == "compile-decline":
        return _compile_declines(backend_name)
    model = _model(model_name)
    feeds = model_input_feeds(model, seed=11)
    # Priority placement: the EP must take what it can run (lavapipe is far slower than the
    # CPU, so placement "fastest" would rightly move everything to cpu).
    options = xinrt.SessionOptions(placement="priority")
    session = xinrt.InferenceSession(model, options, backends=[backend_name, "cpu"])
    got = session.run(None, feeds)
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, feeds
    )
    report = session.placement
    return {
        "coverage": report.coverage(),
        "devices": report.devices,
        "partition_details": [p.details for p in report.partitions if p.backend == backend_name],
        "declined": sorted({r for n in report.nodes for r in n.declined.values()}),
        "capability": backend.last_capability.method,  # type: ignore[attr-defined]
        "max_abs_error": max(float(np.abs(g - w).max()) for g, w in zip(got, want)),
        "max_abs_reference": max(float(np.abs(w).max()) for w in want),
        "allclose_rtol_1e-3": all(
            np.allclose(g, w, rtol=1e-3, atol=1e-3 * float(np.abs(w).max()))
            for g, w in zip(got, want)
        ),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
