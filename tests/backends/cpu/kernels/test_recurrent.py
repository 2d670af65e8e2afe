"""Native LSTM, GRU and RNN kernels match onnx.reference / ONNX Runtime on every SIMD path.

onnx.reference (1.23) ignores sequence_lens, clip, input_forget and the activations attributes;
those cases use ONNX Runtime as the oracle. Everything onnx.reference does implement
(directions, layout, initial states, peepholes, biases) is checked against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from tests.backends.cpu.native_helpers import one_node_model, run_native  # noqa: E402
from tests.backends.cpu.simd_paths import FLOAT_SIMD_PATHS, use_simd_path

_native = pytest.importorskip("xinrt._native")

# The recurrence feeds each step's rounding into the next, so allow a little more than GEMM.
RTOL, ATOL = 1e-4, 1e-5
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
Inputs = list[np.ndarray | None]


@pytest.fixture(params=FLOAT_SIMD_PATHS)
def cpu_path(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test once per kernel path this CPU offers (portable baseline included)."""
    return use_simd_path(request.param, monkeypatch)


def make_inputs(
    op: str,
    seed: int,
    seq: int = 5,
    batch: int = 3,
    input_size: int = 7,
    hidden: int = 6,
    directions: int = 1,
    layout: int = 0,
    bias: bool = True,
    lens: list[int] | None = None,
    initial: bool = True,
    peephole: bool = True,
) -> Inputs:
    """Seeded inputs in ONNX order: X, W, R, B, sequence_lens, initial_h (, initial_c, P)."""
    rng = np.random.default_rng(seed)
    g = GATES[op]

    def rand(*shape: int, scale: float = 1.0) -> np.ndarray:
        return (rng.uniform(-1, 1, size=shape) * scale).astype(np.float32)

    x = rand(batch, seq, input_size) if layout else rand(seq, batch, input_size)
    state = (batch, directions, hidden) if layout else (directions, batch, hidden)
    inputs: Inputs = [
        x,
        rand(directions, g * hidden, input_size, scale=0.6),
        rand(directions, g * hidden, hidden, scale=0.6),
        rand(directions, 2 * g * hidden, scale=0.5) if bias else None,
        np.array(lens, dtype=np.int32) if lens is not None else None,
        rand(*state) if initial else None,
    ]
    if op == "LSTM":
        inputs += [
            rand(*state) if initial else None,
            rand(directions, 3 * hidden) if peephole else None,
        ]
    while inputs[-1] is None:
        inputs.pop()
    return inputs


def num_outputs(op: str) -> int:
    return 3 if op == "LSTM" else 2


def reference_outputs(
    op: str, inputs: Inputs, attrs: dict[str, Any], opset: int
) -> list[np.ndarray]:
    model = one_node_model(op, inputs, attrs, opset, num_outputs(op))
    feeds = {f"x{i}": a for i, a in enumerate(inputs) if a is not None}
    return list(ReferenceEvaluator(model).run(None, feeds))


def ort_outputs(
    op: str, inputs: Inputs, attrs: dict[str, Any], opset: int, outputs: int
) -> list[np.ndarray]:
    """ONNX Runtime's outputs. It rejects layout=1, which the spec defines as a transposition of
    X, the states and Y, so such cases run as layout 0 on transposed tensors."""
    ort = pytest.importorskip("onnxruntime")
    batch_major = attrs.get("layout", 0) == 1
    if batch_major:
        attrs = {**attrs, "layout": 0}
        inputs = [
            np.ascontiguousarray(a.transpose(1, 0, 2)) if a is not None and i in (0, 5, 6) else a
            for i, a in enumerate(inputs)
        ]
    model = one_node_model(op, inputs, attrs, opset, outputs, output_dtype=np.dtype(np.float32))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {f"x{i}": a for i, a in enumerate(inputs) if a is not None}
    got = list(sess.run(None, feeds))
    if batch_major:
        got = [
            g.transpose(2, 0, 1, 3) if i == 0 else g.transpose(1, 0, 2) for i, g in enumerate(got)
        ]
    return got


def assert_close(actual: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.dtype == e.dtype and a.shape == e.shape, (a.dtype, a.shape, e.dtype, e.shape)
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL)


def native(
    op: str,
    inputs: Inputs,
    attrs: dict[str, Any],
    opset: int = 22,
    outputs: int | None = None,
    constant_weights: bool = True,
    threads: int = 2,
) -> list[np.ndarray]:
    """Runs one node; W, R, B and P become plan constants (the pre-transposed R path) by default."""
    const = (1, 2, 3, 7) if constant_weights else ()
    return list(
        run_native(
            op,
            inputs,
            attrs,
            opset,
            num_outputs=outputs or num_outputs(op),
            constant_inputs=const,
            threads=threads,
        )
    )


DIRECTIONS = [("forward", 1), ("reverse", 1), ("bidirectional", 2)]


@pytest.mark.parametrize("direction,dirs", DIRECTIONS)
@pytest.mark.parametrize("layout", [0, 1])
def test_lstm_matches_reference(cpu_path: str, direction: str, dirs: int, layout: int) -> None:
    inputs = make_inputs("LSTM", 1, directions=dirs, layout=layout)
    attrs = {"direction": direction, "hidden_size": 6, "layout": layout}
    expected = reference_outputs("LSTM", inputs, attrs, 22)
    assert_close(native("LSTM", inputs, attrs), expected)


@pytest.mark.parametrize("direction,dirs", DIRECTIONS)
@pytest.mark.parametrize("linear_before_reset", [0, 1])
@pytest.mark.parametrize("layout", [0, 1])
def test_gru_matches_reference(
    cpu_path: str, direction: str, dirs: int, linear_before_reset: int, layout: int
) -> None:
    inputs = make_inputs("GRU", 2, directions=dirs, layout=layout)
    attrs = {
        "direction": direction,
        "hidden_size": 6,
        "linear_before_reset": linear_before_reset,
        "layout": layout,
    }
    expected = reference_outputs("GRU", inputs, attrs, 22)
    assert_close(native("GRU", inputs, attrs), expected)


@pytest.mark.parametrize("direction,dirs", DIRECTIONS)
@pytest.mark.parametrize("layout", [0, 1])
def test_rnn_matches_reference(cpu_path: str, direction: str, dirs: int, layout: int) -> None:
    inputs = make_inputs("RNN", 3, directions=dirs, layout=layout)
    attrs = {"direction": direction, "hidden_size": 6, "layout": layout}
    expected = reference_outputs("RNN", inputs, attrs, 22)
    assert_close(native("RNN", inputs, attrs), expected)


@pytest.mark.parametrize(
    "op,extra", [("LSTM", {}), ("GRU", {}), ("GRU", {"linear_before_reset": 1}), ("RNN", {})]
)
@pytest.mark.parametrize("opset", [7, 14])
@pytest.mark.parametrize("seq", [5, 9])
def test_defaults_without_optional_inputs_match_reference(
    cpu_path: str, op: str, extra: dict[str, int], opset: int, seq: int
) -> None:
    """No B, no initial states, no peepholes; W and R fed at run time (packed per run). 15 rows
    project on the panel kernels, 27 on the SGEMM micro-kernels."""
    inputs = make_inputs(op, 4, seq=seq, bias=False, initial=False, peephole=False)
    attrs = {"hidden_size": 6, **extra}
    expected = reference_outputs(op, inputs, attrs, opset)
    assert_close(native(op, inputs, attrs, opset, constant_weights=False), expected)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("direction,dirs", DIRECTIONS)
@pytest.mark.parametrize("layout", [0, 1])
def test_sequence_lens_match_onnxruntime(
    cpu_path: str, op: str, direction: str, dirs: int, layout: int
) -> None:
    """Unequal lengths: Y is zero past each length, reverse runs within it, Y_h is the last step."""
    inputs = make_inputs(op, 5, seq=6, batch=4, directions=dirs, layout=layout, lens=[6, 2, 4, 1])
    attrs: dict[str, Any] = {"direction": direction, "hidden_size": 6, "layout": layout}
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    expected = ort_outputs(op, inputs, attrs, 22, num_outputs(op))
    assert_close(native(op, inputs, attrs), expected)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("threads", [3, 4])
def test_directions_and_batch_groups_on_more_threads(op: str, threads: int) -> None:
    """Bidirectional, batch 5, 3-4 threads: each direction splits its batch into groups."""
    inputs = make_inputs(op, 14, seq=6, batch=5, directions=2, lens=[6, 1, 4, 6, 3])
    attrs = {"direction": "bidirectional", "hidden_size": 6}
    expected = ort_outputs(op, inputs, attrs, 22, num_outputs(op))
    assert_close(native(op, inputs, attrs, threads=threads), expected)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_zero_sequence_length_matches_onnxruntime(op: str) -> None:
    """A length-0 sequence gives zero Y and zero final states (ONNX Runtime's choice)."""
    inputs = make_inputs(op, 6, seq=4, batch=3, lens=[4, 0, 3])
    attrs = {"hidden_size": 6}
    expected = ort_outputs(op, inputs, attrs, 22, num_outputs(op))
    assert_close(native(op, inputs, attrs), expected)


@pytest.mark.parametrize(
    "op,extra",
    [
        ("LSTM", {}),
        ("LSTM", {"input_forget": 1}),
        ("GRU", {"linear_before_reset": 0}),
        ("GRU", {"linear_before_reset": 1}),
        ("RNN", {}),
    ],
)
def test_clip_and_input_forget_match_onnxruntime(
    cpu_path: str, op: str, extra: dict[str, int]
) -> None:
    """clip (small, so it bites) clamps each gate activation input; the LSTM's h(C) is unclipped."""
    inputs = make_inputs(op, 7, directions=2)
    inputs[0] = np.asarray(inputs[0]) * 3.0
    attrs = {"direction": "bidirectional", "hidden_size": 6, "clip": 0.7, **extra}
    expected = ort_outputs(op, inputs, attrs, 22, num_outputs(op))
    assert_close(native(op, inputs, attrs), expected)


ACTIVATION_CASES = [
    ("RNN", ["Relu"], [], []),
    ("RNN", ["Sigmoid"], [], []),
    ("RNN", ["LeakyRelu"], [0.3], []),
    ("RNN", ["LeakyRelu"], [], []),
    ("RNN", ["HardSigmoid"], [], []),
    ("RNN", ["Elu"], [], []),
    ("RNN", ["ThresholdedRelu"], [0.2], []),
    ("RNN", ["Elu"], [0.7], []),
    ("RNN", ["Softsign"], [], []),
    ("RNN", ["Softplus"], [], []),
    ("RNN", ["HardSigmoid"], [0.3], [0.4]),
    ("RNN", ["ScaledTanh"], [1.5], [0.5]),
    ("RNN", ["Affine"], [0.5], [0.1]),
    ("GRU", ["HardSigmoid", "Softsign", "Sigmoid", "Relu"], [0.25], [0.45]),
    (
        "LSTM",
        ["HardSigmoid", "Tanh", "Softsign", "Sigmoid", "ScaledTanh", "Tanh"],
        [0.3, 1.2],
        [0.6, 0.8],
    ),
]


@pytest.mark.parametrize("op,acts,alpha,beta", ACTIVATION_CASES)
def test_activations_match_onnxruntime(
    cpu_path: str, op: str, acts: list[str], alpha: list[float], beta: list[float]
) -> None:
    dirs = 2 if len(acts) > {"LSTM": 3, "GRU": 2, "RNN": 1}[op] else 1
    direction = "bidirectional" if dirs == 2 else "forward"
    inputs = make_inputs(op, 8, directions=dirs)
    attrs: dict[str, Any] = {"hidden_size": 6, "activations": acts, "direction": direction}
    if alpha:
        attrs["activation_alpha"] = alpha
    if beta:
        attrs["activation_beta"] = beta
    expected = ort_outputs(op, inputs, attrs, 22, num_outputs(op))
    assert_close(native(op, inputs, attrs), expected)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_missing_optional_outputs(op: str) -> None:
    """Only Y; and Y absent with Y_h (and Y_c) present, as exporters write encoders."""
    inputs = make_inputs(op, 9, directions=2)
    attrs: dict[str, Any] = {"hidden_size": 6, "direction": "bidirectional"}
    expected = reference_outputs(op, inputs, attrs, 22)
    assert_close(native(op, inputs, attrs, outputs=1), expected[:1])
    names = [f"x{i}" if a is not None else "" for i, a in enumerate(inputs)]
    outs = ["", "yh", "yc"][: num_outputs(op)]
    node = helper.make_node(op, names, outs, **attrs)
    graph = helper.make_graph(
        [node],
        "no_y",
        [
            helper.make_tensor_value_info(
                n, onnx.TensorProto.FLOAT if n != "x4" else onnx.TensorProto.INT32, a.shape
            )
            for n, a in zip(names, inputs)
            if a is not None
        ],
        [helper.make_tensor_value_info(o, onnx.TensorProto.FLOAT, [2, 3, 6]) for o in outs[1:]],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)], ir_version=8)
    import xinrt

    sess = xinrt.InferenceSession(model.SerializeToString(), backends=["cpu"])
    got = sess.run(None, {n: a for n, a in zip(names, inputs) if a is not None})
    assert_close(list(got), expected[1:])


@pytest.mark.parametrize(
    "op,extra",
    [
        ("LSTM", {}),
        ("GRU", {"linear_before_reset": 0}),
        ("GRU", {"linear_before_reset": 1}),
        ("RNN", {}),
    ],
)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("hidden", [256, 264])
def test_large_hidden_matches_onnxruntime_on_one_and_two_threads(
    cpu_path: str, op: str, extra: dict[str, int], threads: int, batch: int, hidden: int
) -> None:
    """hidden 256/264, input 300: at batch 5 two batch groups on two threads; SIMD row and
    column tails, whole and partial panels, and two K blocks of projection."""
    lens = [4, 3, 4, 2, 4][:batch]
    inputs = make_inputs(op, 10, seq=4, batch=batch, input_size=300, hidden=hidden, lens=lens)
    inputs[2] = np.asarray(inputs[2]) * 0.2
    attrs = {"hidden_size": hidden, **extra}
    expected = ort_outputs(op, inputs, attrs, 22, num_outputs(op))
    assert_close(native(op, inputs, attrs, threads=threads), expected)


@pytest.mark.parametrize("act", ["Sigmoid", "Tanh"])
def test_vector_sigmoid_and_tanh_are_accurate(cpu_path: str, act: str) -> None:
    """A 1-unit RNN with W = 1 and R = 0 is act(X): within a few float32 ulp of float64 math."""
    x = np.linspace(-30, 30, 6001, dtype=np.float32).reshape(-1, 1, 1)
    inputs: Inputs = [x, np.ones((1, 1, 1), np.float32), np.zeros((1, 1, 1), np.float32)]
    y = native("RNN", inputs, {"hidden_size": 1, "activations": [act]}, outputs=1)[0].reshape(-1)
    v = x.reshape(-1).astype(np.float64)
    exact = 1.0 / (1.0 + np.exp(-v)) if act == "Sigmoid" else np.tanh(v)
    np.testing.assert_allclose(y, exact, rtol=1e-6, atol=1e-30)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_nan_input_propagates_like_reference(cpu_path: str, op: str) -> None:
    """A NaN in X stays NaN through the vector sigmoid/tanh (which clamp their inputs)."""
    inputs = make_inputs(op, 13, directions=2)
    x = np.asarray(inputs[0]).copy()
    x[2, 1, 3] = np.nan
    inputs[0] = x
    attrs = {"hidden_size": 6, "direction": "bidirectional"}
    expected = reference_outputs(op, inputs, attrs, 22)
    assert np.isnan(expected[0]).any() and not np.isnan(expected[0]).all()
    assert_close(native(op, inputs, attrs), expected)


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("direction,dirs", DIRECTIONS)
@pytest.mark.parametrize("hidden,batch", [(16, 1), (48, 3), (32, 9)])
def test_whole_panel_hidden_sizes_match_reference(
    cpu_path: str, op: str, direction: str, dirs: int, hidden: int, batch: int
) -> None:
    """Hidden sizes that fill whole 16-column panels run all gates in one kernel call."""
    inputs = make_inputs(op, 15, seq=4, batch=batch, hidden=hidden, directions=dirs)
    attrs: dict[str, Any] = {"direction": direction, "hidden_size": hidden}
    if op == "GRU":
        attrs["linear_before_reset"] = batch % 2
    expected = reference_outputs(op, inputs, attrs, 22)
    assert_close(native(op, inputs, attrs), expected)


@pytest.mark.parametrize(
    "op,hidden,extra",
    [
        ("LSTM", 512, {}),
        ("GRU", 592, {"linear_before_reset": 0}),
        ("GRU", 600, {"linear_before_reset": 1}),
        ("RNN", 1032, {}),
    ],
)
def test_lone_large_sequence_splits_steps_over_threads(
    cpu_path: str, op: str, hidden: int, extra: dict[str, int]
) -> None:
    """Batch 1, one direction, a step of >= 2^20 multiply-adds: units split over two threads."""
    inputs = make_inputs(op, 16, seq=3, batch=1, input_size=20, hidden=hidden)
    inputs[1] = np.asarray(inputs[1]) * np.float32(0.3)
    inputs[2] = np.asarray(inputs[2]) * np.float32(2.0 / np.sqrt(hidden))
    attrs = {"hidden_size": hidden, **extra}
    expected = ort_outputs(op, inputs, attrs, 22, num_outputs(op))
    assert_close(native(op, inputs, attrs, threads=2), expected)


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_long_sequence_projection_splits_over_threads(cpu_path: str, op: str) -> None:
    """300 rows x 300 inputs: the input projection is big enough to run on two threads."""
    inputs = make_inputs(op, 17, seq=60, batch=5, input_size=300, hidden=64, directions=2)
    inputs[1] = np.asarray(inputs[1]) * np.float32(0.2)
    attrs = {"hidden_size": 64, "direction": "bidirectional"}
    expected = ort_outputs(op, inputs, attrs, 22, num_outputs(op))
    assert_close(native(op, inputs, attrs, threads=2), expected)


def check_reason(op: str, inputs: Inputs, attrs: dict[str, Any], opset: int = 22) -> str:
    with pytest.raises(ValueError) as err:
        native(op, inputs, attrs, opset)
    return str(err.value)


def test_unsupported_nodes_are_declined_with_a_reason() -> None:
    lstm = make_inputs("LSTM", 11)
    x64: Inputs = [np.asarray(lstm[0]).astype(np.float64), *lstm[1:]]
    with pytest.raises(TypeError, match="float32"):
        native("LSTM", x64, {})
    w64: Inputs = [lstm[0], np.asarray(lstm[1]).astype(np.float64), *lstm[2:]]
    assert "dtype float64 of input 1 not supported" in check_reason("LSTM", w64, {})
    assert "activation 'Gelu' not supported" in check_reason(
        "RNN", make_inputs("RNN", 11), {"activations": ["Gelu"]}
    )
    rnn = make_inputs("RNN", 11)
    assert "no agreed default" in check_reason("RNN", rnn, {"activations": ["Affine"]})
    # ONNX Runtime defaults alpha to 0 here, the ThresholdedRelu op to 1.0: no silent choice.
    assert "needs explicit activation_alpha (no agreed default)" in check_reason(
        "RNN", rnn, {"activations": ["ThresholdedRelu"]}
    )
    assert "expects 2 activations" in check_reason(
        "GRU", make_inputs("GRU", 11), {"activations": ["Tanh"]}
    )
    no_w: Inputs = [rnn[0], None, *rnn[2:]]
    assert "X, W and R are required inputs" in check_reason("RNN", no_w, {})
    assert "opset 14+" in check_reason("RNN", make_inputs("RNN", 11), {"layout": 1}, opset=7)


def test_bad_inputs_raise() -> None:
    inputs = make_inputs("GRU", 12, seq=4, batch=2, lens=[4, 5])
    with pytest.raises(ValueError, match=r"sequence_lens\[1\] = 5 is outside \[0, 4\]"):
        native("GRU", inputs, {"hidden_size": 6})
    inputs = make_inputs("LSTM", 12)
    with pytest.raises(ValueError, match="hidden_size 5"):
        native("LSTM", inputs, {"hidden_size": 5})
    inputs = make_inputs("RNN", 12)
    inputs[5] = np.zeros((1, 2, 6), np.float32)
    with pytest.raises(ValueError, match="initial_h must have shape"):
        native("RNN", inputs, {})


# -- small whole models through the session -------------------------------------------------


def init(rng: np.random.Generator, name: str, *shape: int, scale: float = 0.3) -> onnx.TensorProto:
    return numpy_helper.from_array(
        (rng.uniform(-1, 1, size=shape) * scale).astype(np.float32), name
    )


def keyword_spotting_model() -> onnx.ModelProto:
    """MFCC frames [1, 40, 49] -> Conv1d -> Relu -> Transpose -> 2-layer LSTM -> Gemm -> Softmax."""
    rng = np.random.default_rng(20)
    h = 32
    inits = [
        init(rng, "conv_w", 24, 40, 3),
        init(rng, "conv_b", 24),
        init(rng, "w1", 1, 4 * h, 24),
        init(rng, "r1", 1, 4 * h, h),
        init(rng, "b1", 1, 8 * h),
        init(rng, "w2", 1, 4 * h, h),
        init(rng, "r2", 1, 4 * h, h),
        init(rng, "b2", 1, 8 * h),
        init(rng, "fc_w", 12, h),
        init(rng, "fc_b", 12),
        numpy_helper.from_array(np.array([1, h], np.int64), "flat"),
    ]
    nodes = [
        helper.make_node("Conv", ["mfcc", "conv_w", "conv_b"], ["c"], pads=[1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Transpose", ["r"], ["seq"], perm=[2, 0, 1]),  # [T, 1, 24]
        helper.make_node("LSTM", ["seq", "w1", "r1", "b1"], ["y1"], hidden_size=h),
        helper.make_node("Squeeze", ["y1", "axes1"], ["s1"]),
        helper.make_node("LSTM", ["s1", "w2", "r2", "b2"], ["", "h2"], hidden_size=h),
        helper.make_node("Reshape", ["h2", "flat"], ["last"]),
        helper.make_node("Gemm", ["last", "fc_w", "fc_b"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"]),
    ]
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "axes1"))
    graph = helper.make_graph(
        nodes,
        "kws_lstm",
        [helper.make_tensor_value_info("mfcc", onnx.TensorProto.FLOAT, [1, 40, 49])],
        [helper.make_tensor_value_info("probs", onnx.TensorProto.FLOAT, [1, 12])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def gru_encoder_model() -> onnx.ModelProto:
    """Token embeddings [B, T, 16] -> MatMul+Add -> Tanh -> Transpose to time-major (ONNX Runtime,
    the oracle, rejects layout=1) -> bidirectional GRU with per-sequence lengths -> concatenated
    final states, as a seq2seq encoder hands to a decoder."""
    rng = np.random.default_rng(21)
    h = 24
    inits = [
        init(rng, "proj_w", 16, 20),
        init(rng, "proj_b", 20),
        init(rng, "w", 2, 3 * h, 20),
        init(rng, "r", 2, 3 * h, h),
        init(rng, "b", 2, 6 * h),
        numpy_helper.from_array(np.array([0, -1], np.int64), "flat"),
    ]
    nodes = [
        helper.make_node("MatMul", ["emb", "proj_w"], ["p"]),
        helper.make_node("Add", ["p", "proj_b"], ["pb"]),
        helper.make_node("Tanh", ["pb"], ["xb"]),
        helper.make_node("Transpose", ["xb"], ["x"], perm=[1, 0, 2]),
        helper.make_node(
            "GRU",
            ["x", "w", "r", "b", "lens"],
            ["y", "hn"],
            hidden_size=h,
            direction="bidirectional",
            linear_before_reset=1,
        ),
        helper.make_node("Transpose", ["hn"], ["hb"], perm=[1, 0, 2]),
        helper.make_node("Reshape", ["hb", "flat"], ["state"]),
    ]
    graph = helper.make_graph(
        nodes,
        "gru_encoder",
        [
            helper.make_tensor_value_info("emb", onnx.TensorProto.FLOAT, [3, 11, 16]),
            helper.make_tensor_value_info("lens", onnx.TensorProto.INT32, [3]),
        ],
        [
            helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [11, 2, 3, h]),
            helper.make_tensor_value_info("state", onnx.TensorProto.FLOAT, [3, 2 * h]),
        ],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)], ir_version=10)


@pytest.mark.parametrize("build", [keyword_spotting_model, gru_encoder_model])
def test_recurrent_models_run_wholly_on_cpu_and_match_onnxruntime(build: Any) -> None:
    import xinrt

    ort = pytest.importorskip("onnxruntime")
    model = build()
    onnx.checker.check_model(model)
    rng = np.random.default_rng(22)
    feeds: dict[str, np.ndarray] = {}
    for vi in model.graph.input:
        shape = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        if vi.type.tensor_type.elem_type == onnx.TensorProto.INT32:
            feeds[vi.name] = np.array([11, 4, 7], np.int32)
        else:
            feeds[vi.name] = rng.standard_normal(shape).astype(np.float32)
    sess = xinrt.InferenceSession(model.SerializeToString(), backends=["cpu"])
    report = sess.placement
    assert {n.backend for n in report.nodes} == {"cpu"}, str(report)
    assert len(report.nodes) == len(model.graph.node)
    ref = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    assert_close(list(sess.run(None, feeds)), list(ref.run(None, feeds)))
