"""Models for tests, benchmarks and the demo: the onnx wheel's light models with real weights.

The light models ship with every weight equal to 0.02 and end in Softmax, so their output is a
uniform 0.001 whatever the input: matching it proves nothing. `randomized_light_model` replaces
each ConstantOfShape weight with seeded random values scaled the way a trained net is (He
initialisation for Conv/Gemm, BatchNorm near identity), so outputs depend on the input.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

LIGHT_MODELS = (
    "bvlc_alexnet",
    "densenet121",
    "inception_v1",
    "inception_v2",
    "resnet50",
    "shufflenet",
    "squeezenet",
    "vgg19",
    "zfnet512",
)


def light_model_path(name: str) -> Path:
    """Path of `onnx/backend/test/data/light/light_<name>.onnx` inside the installed onnx."""
    path = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / f"light_{name}.onnx"
    if not path.is_file():
        raise FileNotFoundError(f"light model {name!r} not in this onnx package: {path}")
    return path


def _weight_for(
    role: tuple[str, int, onnx.NodeProto],
    shape: tuple[int, ...],
    rng: np.random.Generator,
    residual: bool,
) -> np.ndarray:
    op, index, node = role
    if op == "Conv" and index == 1:
        fan_in = math.prod(shape[1:])
        return rng.normal(0.0, math.sqrt(2.0 / max(fan_in, 1)), shape)
    if op == "Gemm" and index == 1:
        trans_b = any(a.name == "transB" and a.i for a in node.attribute)
        fan_in = shape[1] if trans_b else shape[0]
        return rng.normal(0.0, math.sqrt(2.0 / max(fan_in, 1)), shape)
    if op == "BatchNormalization":
        if index == 1:  # a residual branch scaled down, so sums do not double variance per block
            low, high = (0.1, 0.3) if residual else (0.8, 1.2)
            return rng.uniform(low, high, shape)
        if index == 4:
            return rng.uniform(0.5, 1.5, shape)
    return rng.normal(0.0, 0.1, shape)


def randomized_light_model(name: str, seed: int = 0) -> onnx.ModelProto:
    """The light model with its ConstantOfShape weights replaced by seeded random initializers."""
    model = onnx.load(str(light_model_path(name)))
    graph = model.graph
    rng = np.random.default_rng(seed)
    inits = {t.name: t for t in graph.initializer}
    roles: dict[str, tuple[str, int, onnx.NodeProto]] = {}
    for node in graph.node:
        for index, name_in in enumerate(node.input):
            roles.setdefault(name_in, (node.op_type, index, node))
    summed = {i for n in graph.node if n.op_type in ("Add", "Sum") for i in n.input}
    keep: list[onnx.NodeProto] = []
    for node in graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in inits:
            shape = tuple(int(d) for d in numpy_helper.to_array(inits[node.input[0]]))
            role = roles.get(node.output[0], ("", 0, node))
            residual = role[0] == "BatchNormalization" and role[2].output[0] in summed
            value = _weight_for(role, shape, rng, residual).astype(np.float32)
            graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
        else:
            keep.append(node)
    still_used = {i for n in keep for i in n.input}
    unused = {t.name for t in graph.initializer} - still_used
    del graph.node[:]
    graph.node.extend(keep)
    survivors = [t for t in graph.initializer if t.name not in unused]
    del graph.initializer[:]
    graph.initializer.extend(survivors)
    weights = {t.name for t in graph.initializer}
    inputs = [
        v for v in graph.input if v.name not in weights and v.name not in unused
    ]  # IR >= 4: weights are no inputs
    del graph.input[:]
    graph.input.extend(inputs)
    model.ir_version = 7
    _scale_logits(model, feeds=model_input_feeds(model, seed))
    return model


def _logits(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """The pre-Softmax tensor (or the first output), by ONNX Runtime when installed, else
    onnx.reference."""
    probe = with_logits_output(model)
    output = probe.graph.output[-1].name
    try:
        import onnxruntime

        session = onnxruntime.InferenceSession(
            probe.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        return session.run([output], feeds)[0]
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        return np.asarray(list(ReferenceEvaluator(probe).run([output], feeds))[0])


def _scale_logits(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> None:
    """Scale the last Conv/Gemm before Softmax so the logits have a std of about 3.

    Random weights without trained BatchNorm statistics let activations grow layer by layer;
    huge logits make Softmax a one-hot whose value depends on rounding. The ops between that
    layer and Softmax (Relu, pooling, Reshape, Flatten, Dropout) commute with a positive scale.
    """
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    softmaxes = [n for n in graph.node if n.op_type == "Softmax"]
    node = producer.get(softmaxes[-1].input[0] if softmaxes else graph.output[0].name)
    while node is not None and node.op_type not in ("Conv", "Gemm", "MatMul"):
        node = producer.get(node.input[0])
    if node is None:
        return
    std = float(np.std(_logits(model, feeds)))
    if not np.isfinite(std) or std == 0.0:
        return
    inits = {t.name: t for t in graph.initializer}
    for name in node.input[1:]:
        if name in inits:
            scaled = numpy_helper.to_array(inits[name]) * np.float32(3.0 / std)
            inits[name].CopyFrom(numpy_helper.from_array(scaled.astype(np.float32), name))


def model_input_feeds(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded standard-normal float inputs for every true (non-initializer) input of a model."""
    rng = np.random.default_rng(seed)
    inits = {t.name for t in model.graph.initializer}
    feeds = {}
    for value in model.graph.input:
        if value.name in inits:
            continue
        dims = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]
        feeds[value.name] = rng.standard_normal(dims).astype(np.float32)
    return feeds


def with_logits_output(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with the input of its final Softmax added as an output named 'logits'.

    Softmax squeezes differences: compare the tensor before it too. Unchanged without Softmax."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    graph = copy.graph
    softmaxes = [n for n in graph.node if n.op_type == "Softmax"]
    if not softmaxes:
        return copy
    softmax = softmaxes[-1]
    identity = onnx.helper.make_node("Identity", [softmax.input[0]], ["logits"], name="logits_out")
    graph.node.append(identity)
    inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    info = next(v for v in inferred if v.name == softmax.input[0])
    out = onnx.ValueInfoProto()
    out.CopyFrom(info)
    out.name = "logits"
    graph.output.append(out)
    return copy
