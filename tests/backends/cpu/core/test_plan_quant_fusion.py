"""The quantize_dynamic fusion (core/plan_quant_fusion.cc) and a whole dynamically quantized
encoder on `cpu`, close to ONNX Runtime."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.backends.cpu.int8_helpers import FLOAT_TOL, run_ort  # noqa: F401, F811

_native = pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")


def plan_of(model: onnx.ModelProto, threads: int = 2) -> Any:
    """A native Plan of a whole model (initializers become plan constants)."""
    slots: dict[str, int] = {}

    def slot(name: str) -> int:
        return slots.setdefault(name, len(slots)) if name else -1

    inputs = [slot(i.name) for i in model.graph.input]
    constants = {slot(t.name): numpy_helper.to_array(t) for t in model.graph.initializer}
    opsets = {o.domain: o.version for o in model.opset_import}
    nodes = [
        (
            n.op_type,
            n.domain,
            opsets.get(n.domain, 1),
            [slot(i) for i in n.input],
            [slot(o) for o in n.output],
            {a.name: helper.get_attribute_value(a) for a in n.attribute},
            n.name,
        )
        for n in model.graph.node
    ]
    outputs = [slot(o.name) for o in model.graph.output]
    return _native.Plan(nodes, len(slots), inputs, outputs, constants, threads), len(inputs)


def quantize_dynamic_model(
    model: onnx.ModelProto, weight_type: str, per_channel: bool = False
) -> onnx.ModelProto:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(model, str(src))
        quantize_dynamic(
            str(src), str(dst), weight_type=QuantType[weight_type], per_channel=per_channel
        )
        return onnx.load(str(dst))


@pytest.mark.parametrize("weight_type", ["QInt8", "QUInt8"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_quantize_dynamic_matmul_fuses_into_one_step(
    int8_path: str, weight_type: str, per_channel: bool
) -> None:
    rng = np.random.default_rng(9)
    w = numpy_helper.from_array(rng.standard_normal((48, 20)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.standard_normal(20).astype(np.float32), "bias")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["mm"]),
            helper.make_node("Add", ["mm", "bias"], ["y"]),
        ],
        "mm",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [3, 7, 48])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [3, 7, 20])],
        [w, bias],
    )
    fp32 = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    model = quantize_dynamic_model(fp32, weight_type, per_channel)
    assert {n.op_type for n in model.graph.node} >= {"DynamicQuantizeLinear", "MatMulInteger"}
    plan, _ = plan_of(model)
    assert [s.split(" (")[1] for s in plan.steps] == ["DynamicQuantizeMatMul)"]
    x = rng.standard_normal((3, 7, 48)).astype(np.float32)
    got = plan.run([x])[0]
    unfused = run_ort(model, {"x": x})[0]  # DynamicQuantizeLinear, MatMulInteger, Cast, Mul, Add
    np.testing.assert_allclose(got, unfused, rtol=FLOAT_TOL["rtol"], atol=FLOAT_TOL["atol"])


@pytest.mark.parametrize("weight_type", ["QInt8", "QUInt8"])
def test_quantize_dynamic_encoder_runs_wholly_on_cpu_close_to_ort(
    int8_path: str, weight_type: str
) -> None:
    from xinrt import InferenceSession, SessionOptions
    from xinrt.bench.models import transformer_encoder

    fp32 = transformer_encoder(layers=2, hidden=64, heads=2, sequence=16, batch=1)
    model = quantize_dynamic_model(fp32, weight_type)
    session = InferenceSession(model, SessionOptions(intra_op_num_threads=2), backends=["cpu"])
    assert {n.backend for n in session.placement.nodes} == {"cpu"}
    assert [p.backend for p in session.placement.partitions] == ["cpu"]
    plan, _ = plan_of(model)
    # Q, K and V share one DynamicQuantizeLinear (kept; MatMulIntegerToFloat reads it); the
    # attention output and FFN projections quantize inside DynamicQuantizeMatMul.
    kinds = [s.rsplit(" (", 1)[1].rstrip(")") for s in plan.steps]
    assert (
        kinds.count("MatMulIntegerToFloat") == 3 * 2 and kinds.count("DynamicQuantizeLinear") == 2
    )
    assert kinds.count("DynamicQuantizeMatMul") == 3 * 2
    assert not {"MatMulInteger", "Cast"} & set(kinds)
    rng = np.random.default_rng(10)
    feeds = {
        i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]).astype(
            np.float32
        )
        for i in model.graph.input
    }
    got = session.run(None, feeds)[-1].astype(np.float64).ravel()
    want = ort.InferenceSession(model.SerializeToString()).run(None, feeds)[-1]
    want = want.astype(np.float64).ravel()
    cosine = got @ want / (np.linalg.norm(got) * np.linalg.norm(want))
    max_abs = float(np.abs(got - want).max())
    print(f"{weight_type}: cosine {cosine:.7f}, max abs diff {max_abs:.3g}")
    assert cosine >= 0.999, (cosine, max_abs)
