"""Make a partition's model palatable to a vendor SDK before handing it over.

Each step is a function ModelProto -> ModelProto (a new model; the input is not changed),
tested alone. What the research on rknn, nncase, MNN and ncnn found they need
(docs/backends/rknn.md): initializers out of graph.input (IR<4 models), opset >= 13 (rknn
rejects opset-9 Dropout, MNN/ncnn compute opset-9 Softmax wrongly), no Dropout (nncase aborts
on it), static input shapes, and no tensor beyond the fp16 range on reduced-precision targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import onnx
from onnx import helper, numpy_helper

FP16_MAX = 65504.0
_NOOPS = ("Dropout", "Identity")


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def default_opset(model: onnx.ModelProto) -> int:
    """The model's ai.onnx opset version."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)


def initializers_out_of_inputs(model: onnx.ModelProto) -> onnx.ModelProto:
    """Drop initializers from graph.input (IR < 4 models list every weight as an input)."""
    model = _copy(model)
    weights = {t.name for t in model.graph.initializer}
    kept = [v for v in model.graph.input if v.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    model.ir_version = max(model.ir_version, 4)
    return model


def raise_opset(model: onnx.ModelProto, minimum: int = 13) -> onnx.ModelProto:
    """Convert to ai.onnx opset `minimum` with onnx.version_converter when it is older."""
    if default_opset(model) >= minimum:
        return _copy(model)
    try:
        converted = onnx.version_converter.convert_version(model, minimum)
    except Exception as exc:  # the converter raises bare RuntimeErrors per op adapter
        raise ValueError(
            f"cannot raise the opset from {default_opset(model)} to {minimum}: {exc}"
        ) from exc
    converted.ir_version = max(converted.ir_version, 7)
    return converted


def _is_noop(node: onnx.NodeProto, constants: Mapping[str, np.ndarray], needed: set[str]) -> bool:
    if node.op_type not in _NOOPS or node.domain not in ("", "ai.onnx"):
        return False
    if node.op_type == "Dropout":
        if len(node.output) > 1 and node.output[1] in needed:
            return False  # the mask is read: keep the node
        if len(node.input) > 2 and node.input[2]:
            training = constants.get(node.input[2])
            return training is not None and not bool(training)
    return True


def remove_inference_noops(model: onnx.ModelProto) -> onnx.ModelProto:
    """Remove Dropout (inference mode, mask unused) and Identity, rewiring their readers.

    A no-op whose output is a graph output renames its producer's output instead; where that is
    impossible (it copies a graph input or an initializer) it stays, as an Identity."""
    model = _copy(model)
    graph = model.graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    graph_outputs = {v.name for v in graph.output}
    graph_inputs = {v.name for v in graph.input} | set(constants)
    producers = {out: node for node in graph.node for out in node.output}
    needed = {name for node in graph.node for name in node.input} | graph_outputs
    captured = _read_in_subgraphs(graph)
    rename: dict[str, str] = {}
    kept: list[onnx.NodeProto] = []
    for node in graph.node:
        if not _is_noop(node, constants, needed) or {*node.input[:1], *node.output} & captured:
            kept.append(node)  # If/Loop bodies read these names: renaming would break them
            continue
        source, result = node.input[0], node.output[0]
        source = rename.get(source, source)
        if result not in graph_outputs:
            rename[result] = source
        elif source in graph_inputs or source in graph_outputs or source not in producers:
            kept.append(helper.make_node("Identity", [source], [result], name=node.name))
        else:
            rename[source] = result  # the producer now writes the graph output directly
            for earlier in kept:
                for i, name in enumerate(earlier.output):
                    if name == source:
                        earlier.output[i] = result
                for i, name in enumerate(earlier.input):
                    if name == source:
                        earlier.input[i] = result
    for node in kept:
        for i, name in enumerate(node.input):
            node.input[i] = rename.get(name, name)
    del graph.node[:]
    graph.node.extend(kept)
    produced = {name for node in kept for name in node.output}
    infos = [v for v in graph.value_info if v.name in produced]
    del graph.value_info[:]
    graph.value_info.extend(infos)
    return model


def _read_in_subgraphs(graph: onnx.GraphProto) -> set[str]:
    """Every name a node inside an If/Loop/Scan body of this graph reads (outer-scope or not)."""
    names: set[str] = set()
    for node in graph.node:
        for attribute in node.attribute:
            bodies = [attribute.g] if attribute.type == onnx.AttributeProto.GRAPH else []
            bodies += list(attribute.graphs)
            for body in bodies:
                names.update(n for inner in body.node for n in inner.input)
                names.update(v.name for v in body.output)
                names |= _read_in_subgraphs(body)
    return names


def symbolic_inputs(model: onnx.ModelProto) -> dict[str, list[int | str]]:
    """Graph inputs whose shape is not fully static, with their dims (symbols as strings)."""
    weights = {t.name for t in model.graph.initializer}
    found: dict[str, list[int | str]] = {}
    for value in model.graph.input:
        if value.name in weights:
            continue
        dims: list[int | str] = [
            d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in value.type.tensor_type.shape.dim
        ]
        if any(not isinstance(d, int) for d in dims):
            found[value.name] = dims
    return found


def freeze_shapes(model: onnx.ModelProto, shapes: Mapping[str, Sequence[int]]) -> onnx.ModelProto:
    """Give the named inputs these static shapes and infer every other shape again."""
    model = _copy(model)
    for value in model.graph.input:
        if value.name not in shapes:
            continue
        wanted = [int(d) for d in shapes[value.name]]
        dims = value.type.tensor_type.shape.dim
        if len(dims) and len(dims) != len(wanted):
            raise ValueError(
                f"input {value.name!r} has rank {len(dims)}, the feed has shape {wanted}"
            )
        del dims[:]
        for size in wanted:
            dims.add().dim_value = size
    del model.graph.value_info[:]
    for value in model.graph.output:
        value.type.tensor_type.ClearField("shape")
    return onnx.shape_inference.infer_shapes(model)


def evaluate(
    model: onnx.ModelProto, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Run a model on ONNX Runtime's CPU EP when installed, else on onnx.reference."""
    names = list(outputs) if outputs is not None else [v.name for v in model.graph.output]
    try:
        import onnxruntime
    except ImportError:
        onnxruntime = None
    if onnxruntime is not None:
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        return dict(zip(names, session.run(names, dict(feeds))))
    from onnx.reference import ReferenceEvaluator

    results = ReferenceEvaluator(model).run(names, dict(feeds))
    return {n: np.asarray(r) for n, r in zip(names, results)}


def fp16_overflow(
    model: onnx.ModelProto, feeds: Mapping[str, np.ndarray], limit: float = FP16_MAX
) -> list[tuple[str, float]]:
    """Float tensors whose magnitude exceeds `limit` on these feeds: (name, max abs), largest first.

    Every typed intermediate tensor is made an output for one reference run, so an fp16 or
    int8 target can decline up front instead of returning inf or NaN at run time."""
    probe = onnx.shape_inference.infer_shapes(_copy(model))
    float_types = (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16)
    present = {v.name for v in probe.graph.output}
    for info in probe.graph.value_info:
        if info.type.tensor_type.elem_type in float_types and info.name not in present:
            probe.graph.output.append(info)
            present.add(info.name)
    values = evaluate(probe, feeds)
    found = []
    for name, value in values.items():
        array = np.asarray(value)
        if array.dtype.kind != "f" or not array.size:
            continue
        peak = float(np.max(np.abs(array)))
        if not np.isfinite(peak) or peak > limit:
            found.append((name, peak))
    return sorted(found, key=lambda item: -item[1] if np.isfinite(item[1]) else -np.inf)


def legalize(
    model: onnx.ModelProto,
    shapes: Mapping[str, Sequence[int]] | None = None,
    min_opset: int = 13,
) -> onnx.ModelProto:
    """All the structural steps in order: inputs, opset, no-ops, then frozen shapes."""
    model = initializers_out_of_inputs(model)
    model = raise_opset(model, min_opset)
    model = remove_inference_noops(model)
    if shapes:
        model = freeze_shapes(model, shapes)
    return model


def seeded_feeds(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded inputs for every graph input of a static-shape model, by its element type."""
    rng = np.random.default_rng(seed)
    weights = {t.name for t in model.graph.initializer}
    feeds: dict[str, np.ndarray] = {}
    for value in model.graph.input:
        if value.name in weights:
            continue
        tensor = value.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 1 for d in tensor.shape.dim]
        dtype = helper.tensor_dtype_to_np_dtype(tensor.elem_type)
        if dtype.kind == "f":
            feeds[value.name] = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            feeds[value.name] = rng.integers(0, 2, shape).astype(bool)
        else:
            feeds[value.name] = rng.integers(0, 10, shape).astype(dtype)
    return feeds
