"""Mutators: structure-aware (dims, attributes, initializers that lie, op swaps, rewiring,
subgraphs, opsets) and byte-level (flips, inserts, deletes, truncation of the serialized model).

Every mutator takes a `random.Random` and a ModelProto it may change in place; `mutate_case`
turns a seed number into the bytes of one fuzz case, deterministically.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import onnx
from onnx import TensorProto

from tests.fuzz.seeds import SEEDS

# Values that break arithmetic: overflow, sign, off-by-one, the 2**62 + 1.
EXTREME_INTS = [
    0,
    1,
    -1,
    2,
    -2,
    3,
    7,
    64,
    2**31 - 1,
    2**31,
    -(2**31),
    2**32 + 1,
    2**62 + 1,
    2**62,
    2**63 - 1,
    -(2**63),
    -(2**63) + 1,
    10**12,
]
EXTREME_FLOATS = [
    0.0,
    -0.0,
    1e-30,
    -1.0,
    0.5,
    2.0,
    1e9,
    1e30,
    float("inf"),
    float("-inf"),
    float("nan"),
]
STRINGS = [
    "",
    "constant",
    "reflect",
    "edge",
    "wrap",
    "nearest",
    "linear",
    "cubic",
    "SAME_UPPER",
    "VALID",
    "NOTSET",
    "align_corners",
    "asymmetric",
    "floor",
    "ceil",
]
OP_TYPES = [
    "Add",
    "Relu",
    "Reshape",
    "Slice",
    "Gather",
    "Concat",
    "Expand",
    "Pad",
    "Resize",
    "Conv",
    "MaxPool",
    "AveragePool",
    "ConvTranspose",
    "Transpose",
    "Split",
    "Squeeze",
    "Unsqueeze",
    "ReduceMean",
    "ReduceSum",
    "ConstantOfShape",
    "Where",
    "MatMul",
    "Gemm",
    "Softmax",
    "Cast",
    "Flatten",
    "Identity",
    "Loop",
    "If",
    "Scan",
    "Shape",
    "LSTM",
    "QuantizeLinear",
    "DequantizeLinear",
    "LayerNormalization",
    "Tile",
    "Range",
]
DTYPES = [
    TensorProto.FLOAT,
    TensorProto.INT64,
    TensorProto.INT32,
    TensorProto.BOOL,
    TensorProto.UINT8,
    TensorProto.FLOAT16,
    TensorProto.DOUBLE,
    TensorProto.STRING,
]


def _an_int(rng: random.Random) -> int:
    return rng.choice(EXTREME_INTS) if rng.random() < 0.7 else rng.randint(-8, 16)


def _graphs(graph: onnx.GraphProto) -> list[onnx.GraphProto]:
    """The graph and every subgraph in it, recursively."""
    found = [graph]
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                found.extend(_graphs(attr.g))
            for g in attr.graphs:
                found.extend(_graphs(g))
    return found


def _pick_graph(rng: random.Random, model: onnx.ModelProto) -> onnx.GraphProto:
    return rng.choice(_graphs(model.graph))


def mutate_dim(rng: random.Random, model: onnx.ModelProto) -> None:
    """A declared dim of an input, output or value_info becomes extreme, symbolic or dropped."""
    graph = _pick_graph(rng, model)
    infos = [*graph.input, *graph.output, *graph.value_info]
    if not infos:
        return
    tensor_type = rng.choice(infos).type.tensor_type
    dims = tensor_type.shape.dim
    if not dims or rng.random() < 0.15:
        tensor_type.shape.dim.add().dim_value = _an_int(rng) & (2**63 - 1)
        return
    dim = rng.choice(dims)
    if rng.random() < 0.2:
        dim.dim_param = rng.choice(["N", "", "batch"])
    else:
        dim.dim_value = _an_int(rng) & (2**63 - 1)  # the proto field is int64 (may wrap negative)
        if rng.random() < 0.3:
            dim.dim_value = rng.choice([-1, -(2**62)])


def mutate_attribute(rng: random.Random, model: onnx.ModelProto) -> None:
    """An int, float, string or list attribute of a node gets an extreme value."""
    graph = _pick_graph(rng, model)
    nodes = [n for n in graph.node if n.attribute]
    if not nodes:
        return
    attr = rng.choice(rng.choice(nodes).attribute)
    if attr.type == onnx.AttributeProto.INT:
        attr.i = _an_int(rng)
    elif attr.type == onnx.AttributeProto.FLOAT:
        attr.f = rng.choice(EXTREME_FLOATS)
    elif attr.type == onnx.AttributeProto.STRING:
        attr.s = rng.choice(STRINGS).encode()
    elif attr.type == onnx.AttributeProto.INTS:
        if attr.ints and rng.random() < 0.8:
            attr.ints[rng.randrange(len(attr.ints))] = _an_int(rng)
        else:
            attr.ints.append(_an_int(rng))
    elif attr.type == onnx.AttributeProto.FLOATS and attr.floats:
        attr.floats[rng.randrange(len(attr.floats))] = rng.choice(EXTREME_FLOATS)
    elif attr.type == onnx.AttributeProto.TENSOR:
        _lie_about(rng, attr.t)


def add_attribute(rng: random.Random, model: onnx.ModelProto) -> None:
    """A node gets an attribute its op may or may not know (axis, pads, mode ...)."""
    graph = _pick_graph(rng, model)
    if not graph.node:
        return
    node = rng.choice(graph.node)
    name = rng.choice(
        [
            "axis",
            "axes",
            "pads",
            "strides",
            "kernel_shape",
            "dilations",
            "mode",
            "keepdims",
            "perm",
            "group",
            "allowzero",
            "ceil_mode",
            "to",
            "num_outputs",
            "output_padding",
            "noop_with_empty_axes",
        ]
    )
    del_index = [i for i, a in enumerate(node.attribute) if a.name == name]
    for i in reversed(del_index):
        del node.attribute[i]
    if name == "mode":
        value: object = rng.choice(STRINGS)
    elif name in ("pads", "strides", "kernel_shape", "dilations", "perm", "axes", "output_padding"):
        value = [_an_int(rng) for _ in range(rng.choice([1, 2, 3, 4]))]
    else:
        value = _an_int(rng)
    node.attribute.append(onnx.helper.make_attribute(name, value))


def _lie_about(rng: random.Random, tensor: onnx.TensorProto) -> None:
    """Dims or dtype that do not match the data the tensor holds (or extreme data values)."""
    choice = rng.random()
    if choice < 0.35 and tensor.dims:
        tensor.dims[rng.randrange(len(tensor.dims))] = _an_int(rng)
    elif choice < 0.5:
        tensor.dims.append(rng.choice([2**62 + 1, 2, 0, 3]))
    elif choice < 0.6 and tensor.dims:
        del tensor.dims[rng.randrange(len(tensor.dims))]
    elif choice < 0.7:
        tensor.data_type = rng.choice(DTYPES)
    elif tensor.data_type == TensorProto.INT64:
        values = onnx.numpy_helper.to_array(tensor).astype("int64").ravel()
        if values.size:
            values[rng.randrange(values.size)] = _an_int(rng)
            fresh = onnx.numpy_helper.from_array(values.reshape(tuple(tensor.dims)), tensor.name)
            tensor.CopyFrom(fresh)
    elif tensor.raw_data:
        raw = bytearray(tensor.raw_data)
        cut = rng.randrange(len(raw) + 1)
        tensor.raw_data = bytes(raw[:cut]) if rng.random() < 0.5 else bytes(raw) + bytes(cut)


def mutate_initializer(rng: random.Random, model: onnx.ModelProto) -> None:
    """An initializer's dims lie about its data, its dtype changes, or an int64 value is extreme."""
    graph = _pick_graph(rng, model)
    if graph.initializer:
        _lie_about(rng, rng.choice(graph.initializer))


def swap_op(rng: random.Random, model: onnx.ModelProto) -> None:
    """A node becomes another op type (its inputs, outputs and attributes stay)."""
    graph = _pick_graph(rng, model)
    if graph.node:
        rng.choice(graph.node).op_type = rng.choice(OP_TYPES)


def _value_names(graph: onnx.GraphProto) -> list[str]:
    names = [v.name for v in graph.input] + [t.name for t in graph.initializer]
    return names + [o for n in graph.node for o in n.output]


def rewire(rng: random.Random, model: onnx.ModelProto) -> None:
    """A node input reads another value (maybe a later one: a cycle), or none; or an input is
    added or dropped; or a node is dropped or duplicated."""
    graph = _pick_graph(rng, model)
    if not graph.node:
        return
    node = rng.choice(graph.node)
    names = _value_names(graph) + [""]
    choice = rng.random()
    if choice < 0.5 and node.input:
        node.input[rng.randrange(len(node.input))] = rng.choice(names)
    elif choice < 0.65:
        node.input.append(rng.choice(names))
    elif choice < 0.75 and node.input:
        del node.input[-1]
    elif choice < 0.85:
        graph.node.remove(node)
    elif choice < 0.95:
        graph.node.append(
            onnx.NodeProto(
                op_type=node.op_type,
                input=node.input,
                output=[o + "_dup" for o in node.output],
                attribute=node.attribute,
            )
        )
    else:
        node.output.append("extra_out")


def mutate_opset(rng: random.Random, model: onnx.ModelProto) -> None:
    """The default-domain opset moves to another version (old, new, or past the newest)."""
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            imp.version = rng.choice([1, 6, 9, 10, 11, 12, 13, 17, 19, 21, 23, 30])


def mutate_dtype(rng: random.Random, model: onnx.ModelProto) -> None:
    """A declared input/output element type changes."""
    graph = _pick_graph(rng, model)
    infos = [*graph.input, *graph.output]
    if infos:
        rng.choice(infos).type.tensor_type.elem_type = rng.choice(DTYPES)


STRUCTURED: list[Callable[[random.Random, onnx.ModelProto], None]] = [
    mutate_dim,
    mutate_attribute,
    mutate_attribute,
    add_attribute,
    mutate_initializer,
    mutate_initializer,
    swap_op,
    rewire,
    mutate_opset,
    mutate_dtype,
]


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """A few byte flips, inserts, deletes, or a truncation."""
    raw = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not raw:
            break
        choice, at = rng.random(), rng.randrange(len(raw))
        if choice < 0.5:
            raw[at] = rng.randrange(256)
        elif choice < 0.7:
            raw[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice < 0.9:
            del raw[at : at + rng.randint(1, 8)]
        else:
            del raw[at:]
    return bytes(raw)


def mutate_case(seed: int) -> tuple[str, bytes]:
    """(description, serialized model) of fuzz case `seed`; the same seed gives the same bytes."""
    rng = random.Random(seed)
    name = rng.choice(sorted(SEEDS))
    model = SEEDS[name]()
    steps = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        mutator = rng.choice(STRUCTURED)
        try:
            mutator(rng, model)
        except (ValueError, TypeError, IndexError, OverflowError):
            continue  # the proto refused the value (e.g. out of its int range): try the next
        steps.append(mutator.__name__)
    data = model.SerializeToString()
    if rng.random() < 0.15:
        data = mutate_bytes(rng, data)
        steps.append("mutate_bytes")
    return f"{name}: {', '.join(steps)}", data
