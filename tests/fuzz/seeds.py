"""The fuzzer's seed corpus: small valid models, one per op family the native backend runs.

Each builder returns a ModelProto that loads and runs on every backend; the mutators in
`mutate.py` then break it in structured ways.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F, I64, BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
_RNG = np.random.default_rng(0)


def _init(name: str, value: object, dtype: type = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def _weights(name: str, *shape: int) -> onnx.TensorProto:
    return _init(name, _RNG.standard_normal(shape))


def _model(nodes, inputs, outputs, inits=(), opset=18) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "fuzz", inputs, outputs, initializer=list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _vi(name: str, shape: list, dtype: int = F) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, shape)


def shape_chain() -> onnx.ModelProto:
    """Reshape -> Slice -> Gather -> Concat (the issue's out-of-bounds chain)."""
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
        helper.make_node("Slice", ["r", "starts", "ends", "axes", "steps"], ["s"], name="slice"),
        helper.make_node("Gather", ["s", "idx"], ["g"], name="gather", axis=1),
        helper.make_node("Concat", ["g", "g"], ["y"], name="concat", axis=0),
    ]
    inits = [
        _init("shape", [4, 6], np.int64),
        _init("starts", [0, 1], np.int64),
        _init("ends", [4, 6], np.int64),
        _init("axes", [0, 1], np.int64),
        _init("steps", [1, 2], np.int64),
        _init("idx", [0, 2, 1], np.int64),
    ]
    return _model(nodes, [_vi("x", [2, 3, 4])], [_vi("y", [8, 3])], inits)


def conv_pool() -> onnx.ModelProto:
    nodes = [
        helper.make_node(
            "Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1], strides=[1, 1]
        ),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node(
            "MaxPool", ["r"], ["p"], name="maxpool", kernel_shape=[2, 2], strides=[2, 2]
        ),
        helper.make_node(
            "AveragePool", ["p"], ["a"], name="avgpool", kernel_shape=[2, 2], pads=[1, 1, 1, 1]
        ),
        helper.make_node("Flatten", ["a"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "gw"], ["y"], name="gemm", transB=1),
    ]
    inits = [_weights("w", 4, 2, 3, 3), _weights("b", 4), _weights("gw", 3, 36)]
    return _model(nodes, [_vi("x", [1, 2, 8, 8])], [_vi("y", [1, 3])], inits)


def pad_resize() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode="reflect"),
        helper.make_node("Resize", ["p", "", "scales"], ["y"], name="resize", mode="nearest"),
    ]
    inits = [_init("pads", [0, 0, 1, 2, 0, 0, 1, 2], np.int64), _init("scales", [1, 1, 2, 0.5])]
    return _model(nodes, [_vi("x", [1, 1, 4, 5])], [_vi("y", [1, 1, 12, 4])], inits)


def _loop_body() -> onnx.GraphProto:
    return helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep"),
            helper.make_node("Add", ["state", "one"], ["state_out"], name="inc"),
            helper.make_node("Mul", ["state_out", "two"], ["scan_out"], name="double"),
        ],
        "body",
        [_vi("i", [], I64), _vi("cond_in", [], BOOL), _vi("state", [2])],
        [_vi("cond_out", [], BOOL), _vi("state_out", [2]), _vi("scan_out", [2])],
        initializer=[_init("one", [1.0, 1.0]), _init("two", [2.0, 2.0])],
    )


def loop() -> onnx.ModelProto:
    nodes = [
        helper.make_node(
            "Loop", ["trips", "cond", "x"], ["final", "scans"], name="loop", body=_loop_body()
        )
    ]
    inits = [_init("trips", 3, np.int64), _init("cond", True, np.bool_)]
    return _model(nodes, [_vi("x", [2])], [_vi("final", [2]), _vi("scans", [3, 2])], inits)


def if_else() -> onnx.ModelProto:
    then = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["t"], name="relu")], "then", [], [_vi("t", [3, 4])]
    )
    other = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["e"], name="neg")], "else", [], [_vi("e", [3, 4])]
    )
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["s"], name="sum", keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["c"], name="gt"),
        helper.make_node("If", ["c"], ["y"], name="if", then_branch=then, else_branch=other),
    ]
    return _model(nodes, [_vi("x", [3, 4])], [_vi("y", [3, 4])], [_init("zero", 0.0)])


def scan() -> onnx.ModelProto:
    body = helper.make_graph(
        [
            helper.make_node("Add", ["acc", "row"], ["acc_out"], name="add"),
            helper.make_node("Identity", ["acc_out"], ["out"], name="copy"),
        ],
        "body",
        [_vi("acc", [4]), _vi("row", [4])],
        [_vi("acc_out", [4]), _vi("out", [4])],
    )
    nodes = [
        helper.make_node(
            "Scan", ["init", "x"], ["total", "partials"], name="scan", body=body, num_scan_inputs=1
        )
    ]
    return _model(
        nodes, [_vi("init", [4]), _vi("x", [5, 4])], [_vi("total", [4]), _vi("partials", [5, 4])]
    )


def reduce() -> onnx.ModelProto:
    nodes = [
        helper.make_node("ReduceSum", ["x", "axes"], ["s"], name="sum", keepdims=1),
        helper.make_node("ReduceMean", ["s", "axes2"], ["y"], name="mean", keepdims=0),
    ]
    inits = [_init("axes", [1], np.int64), _init("axes2", [0, 2], np.int64)]
    return _model(nodes, [_vi("x", [2, 3, 4])], [_vi("y", [1])], inits)


def expand_where() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Expand", ["x", "shape"], ["e"], name="expand"),
        helper.make_node("Less", ["e", "zero"], ["c"], name="less"),
        helper.make_node("Where", ["c", "e", "x"], ["y"], name="where"),
    ]
    inits = [_init("shape", [3, 1, 4], np.int64), _init("zero", 0.0)]
    return _model(nodes, [_vi("x", [2, 4])], [_vi("y", [3, 2, 4])], inits)


def matmul_softmax() -> onnx.ModelProto:
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="matmul"),
        helper.make_node("Add", ["m", "b"], ["a"], name="bias"),
        helper.make_node("Softmax", ["a"], ["s"], name="softmax", axis=-1),
        helper.make_node("LayerNormalization", ["s", "g", "beta"], ["y"], name="ln", axis=-1),
    ]
    # w is 5,120 bytes: large enough that loading from a file leaves it there (runtime/skim.py)
    inits = [_weights("w", 40, 32), _weights("b", 32), _weights("g", 32), _weights("beta", 32)]
    return _model(nodes, [_vi("x", [2, 3, 40])], [_vi("y", [2, 3, 32])], inits)


def split_transpose() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Split", ["x", "split"], ["a", "b"], name="split", axis=1),
        helper.make_node("Transpose", ["a"], ["ta"], name="ta", perm=[1, 0, 2]),
        helper.make_node("Transpose", ["b"], ["tb"], name="tb", perm=[1, 0, 2]),
        helper.make_node("Concat", ["ta", "tb"], ["y"], name="concat", axis=0),
    ]
    return _model(
        nodes, [_vi("x", [2, 5, 3])], [_vi("y", [5, 2, 3])], [_init("split", [2, 3], np.int64)]
    )


def constant_of_shape() -> onnx.ModelProto:
    value = helper.make_tensor("value", F, [1], [0.5])
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("ConstantOfShape", ["s"], ["c"], name="cos", value=value),
        helper.make_node("Add", ["x", "c"], ["a"], name="add"),
        helper.make_node("Unsqueeze", ["a", "ax"], ["u"], name="unsqueeze"),
        helper.make_node("Squeeze", ["u", "ax"], ["y"], name="squeeze"),
    ]
    return _model(nodes, [_vi("x", [3, 2])], [_vi("y", [3, 2])], [_init("ax", [0], np.int64)])


def conv_transpose() -> onnx.ModelProto:
    nodes = [
        helper.make_node(
            "ConvTranspose",
            ["x", "w"],
            ["y"],
            name="deconv",
            strides=[2, 2],
            pads=[0, 0, 0, 0],
            output_padding=[1, 1],
        ),
    ]
    return _model(
        nodes, [_vi("x", [1, 2, 3, 3])], [_vi("y", [1, 3, 8, 8])], [_weights("w", 2, 3, 3, 3)]
    )


def cast_compare() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Cast", ["x"], ["i"], name="to_int", to=I64),
        helper.make_node("Cast", ["i"], ["f"], name="to_float", to=F),
        helper.make_node("Sub", ["x", "f"], ["d"], name="sub"),
        helper.make_node("Equal", ["i", "k"], ["eq"], name="eq"),
        helper.make_node("Where", ["eq", "d", "x"], ["y"], name="where"),
    ]
    return _model(nodes, [_vi("x", [4, 3])], [_vi("y", [4, 3])], [_init("k", [1], np.int64)])


def qdq() -> onnx.ModelProto:
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "scale", "zp"], ["q"], name="quant"),
        helper.make_node("DequantizeLinear", ["q", "scale", "zp"], ["d"], name="dequant"),
        helper.make_node("MatMul", ["d", "w"], ["y"], name="matmul"),
    ]
    inits = [_init("scale", 0.05), _init("zp", 3, np.uint8), _weights("w", 4, 2)]
    return _model(nodes, [_vi("x", [3, 4])], [_vi("y", [3, 2])], inits)


def lstm() -> onnx.ModelProto:
    nodes = [helper.make_node("LSTM", ["x", "w", "r", "b"], ["y", "h"], name="lstm", hidden_size=3)]
    inits = [_weights("w", 1, 12, 4), _weights("r", 1, 12, 3), _weights("b", 1, 24)]
    return _model(
        nodes, [_vi("x", [2, 1, 4])], [_vi("y", [2, 1, 1, 3]), _vi("h", [1, 1, 3])], inits
    )


SEEDS: dict[str, Callable[[], onnx.ModelProto]] = {
    f.__name__: f
    for f in (
        shape_chain,
        conv_pool,
        pad_resize,
        loop,
        if_else,
        scan,
        reduce,
        expand_where,
        matmul_softmax,
        split_transpose,
        constant_of_shape,
        conv_transpose,
        cast_compare,
        qdq,
        lstm,
    )
}
