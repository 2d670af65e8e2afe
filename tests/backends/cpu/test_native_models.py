"""Whole light CNN models from the onnx wheel run as one native Plan and match ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.backends.cpu.native_helpers import plan_for  # noqa: E402

_native = pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def with_random_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """Replaces the light models' ConstantOfShape weights (all 0.02) by seeded random ones."""
    rng = np.random.default_rng(40)
    shapes = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    kept = []
    for node in model.graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes:
            shape = shapes[node.input[0]]
            if len(shape) == 1:  # biases and batch-norm statistics: positive, around 1
                value = rng.uniform(0.5, 1.5, size=shape)
            else:
                value = rng.uniform(-1, 1, size=shape) * np.sqrt(3.0 / np.prod(shape[1:]))
            model.graph.initializer.append(
                numpy_helper.from_array(value.astype(np.float32), node.output[0])
            )
        else:
            kept.append(node)
    del model.graph.node[:]
    model.graph.node.extend(kept)
    return model


@pytest.mark.parametrize("name", ["squeezenet", "shufflenet", "resnet50", "inception_v2"])
def test_light_model_matches_onnxruntime(name):
    path = LIGHT / f"light_{name}.onnx"
    if not path.exists():
        pytest.skip(f"{path} not in this onnx wheel")
    model = with_random_weights(onnx.load(path))
    data = [i for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    native_model = onnx.ModelProto()
    native_model.CopyFrom(model)
    del native_model.graph.input[:]
    native_model.graph.input.extend(data)  # the plan's feeds are the true graph inputs only
    shape = [d.dim_value for d in data[0].type.tensor_type.shape.dim]
    x = np.random.default_rng(41).standard_normal(shape).astype(np.float32)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    (expected,) = session.run(None, {data[0].name: x})
    (actual,) = plan_for(native_model).run([x])
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)

_native = pytest.importorskip("xinrt._native")


@pytest.mark.parametrize("threads", [1, 2])
def test_bert_encoder_runs_wholly_on_cpu_and_matches_onnxruntime(threads):
    ort = pytest.importorskip("onnxruntime")
    import xinrt
    from xinrt.bench.models import transformer_encoder

    model = transformer_encoder(layers=2)
    x = np.random.default_rng(21).standard_normal((1, 128, 256)).astype(np.float32)
    options = xinrt.SessionOptions(strict=True, intra_op_num_threads=threads)
    actual = xinrt.InferenceSession(model, backends=["cpu"], sess_options=options).run(
        None, {"hidden_states": x}
    )
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    ref = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(
        actual[0], ref.run(None, {"hidden_states": x})[0], rtol=1e-3, atol=1e-4
    )


def test_bert_encoder_with_decomposed_layer_norm_runs_on_cpu():
    from onnx.reference import ReferenceEvaluator

    import xinrt
    from xinrt.bench.models import transformer_encoder

    model = transformer_encoder(layers=1, hidden=64, heads=2, sequence=7, fused_layer_norm=False)
    x = np.random.default_rng(22).standard_normal((1, 7, 64)).astype(np.float32)
    options = xinrt.SessionOptions(strict=True)
    actual = xinrt.InferenceSession(model, backends=["cpu"], sess_options=options).run(
        None, {"hidden_states": x}
    )
    expected = ReferenceEvaluator(model).run(None, {"hidden_states": x})
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-3, atol=1e-4)
