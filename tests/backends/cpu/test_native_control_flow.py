"""Native If, Loop and Scan: whole models placed on `cpu`, subgraphs compiled into the C++ plan,
matching ONNX Runtime (and onnx.reference where it follows the spec) on seeded random inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from xinrt import InferenceSession
from xinrt.backend import get_backend
from xinrt.errors import ExecutionError

_native = pytest.importorskip("xinrt._native")
ort = pytest.importorskip("onnxruntime")

RTOL, ATOL = 1e-5, 1e-6
F, I64, BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def vi(name: str, shape: Any, dtype: int = F) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, shape)


def const(name: str, array: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(array, name)


def model_of(nodes, inputs, outputs, initializers=(), opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "control_flow", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10 if opset > 18 else 8
    onnx.checker.check_model(model, full_check=True)
    return model


def run_onnxruntime(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, feeds)


def assert_close(actual: Sequence[Any], expected: Sequence[Any], what: str) -> None:
    assert len(actual) == len(expected), what
    for i, (a, e) in enumerate(zip(actual, expected)):
        e = np.asarray(e)
        assert a.dtype == e.dtype and a.shape == e.shape, (what, i, a.dtype, a.shape, e.shape)
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL, err_msg=f"{what}: output {i}")


def assert_all_on_cpu(model: onnx.ModelProto, feeds_list, reference: bool = True) -> None:
    """Every node on `cpu` (the control-flow ones too), outputs as ORT's (and onnx.reference's)."""
    session = InferenceSession(model, backends=["cpu"])
    placed = {n.name: n.backend for n in session.placement.nodes}
    assert set(placed.values()) == {"cpu"}, placed
    for feeds in feeds_list:
        actual = session.run(None, feeds)
        assert_close(actual, run_onnxruntime(model, feeds), "vs onnxruntime")
        if reference:
            expected = ReferenceEvaluator(model).run(None, feeds)
            assert isinstance(expected, list)
            assert_close(actual, expected, "vs onnx.reference")


# ---- If ----


def if_model() -> onnx.ModelProto:
    """cond = sum(x) > 0; then: x @ W + y (W outer initializer); else: x * y - c (branch const)."""
    then_branch = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "y"], ["then_out"]),
        ],
        "then",
        [],
        [vi("then_out", [3, 4])],
    )
    else_branch = helper.make_graph(
        [
            helper.make_node("Mul", ["x", "y"], ["xy"]),
            helper.make_node("Sub", ["xy", "c"], ["else_out"]),
        ],
        "else",
        [],
        [vi("else_out", [3, 4])],
        [const("c", np.array([0.5, -1.0, 2.0, 0.25], np.float32))],
    )
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["cond"]),
        helper.make_node(
            "If", ["cond"], ["z"], name="if", then_branch=then_branch, else_branch=else_branch
        ),
        helper.make_node("Relu", ["z"], ["out"]),
    ]
    w = np.random.default_rng(1).standard_normal((4, 4)).astype(np.float32)
    return model_of(
        nodes,
        [vi("x", [3, 4]), vi("y", [3, 4])],
        [vi("out", [3, 4])],
        [const("W", w), const("zero", np.array(0, np.float32))],
    )


def test_if_takes_each_branch_reading_outer_values_and_initializers():
    rng = np.random.default_rng(0)
    feeds_list = []
    for _ in range(3):
        x = rng.standard_normal((3, 4)).astype(np.float32)
        y = rng.standard_normal((3, 4)).astype(np.float32)
        x_pos = x + (1.0 - x.sum() / 12)  # sum(x) = 12: the then branch
        feeds_list += [{"x": x_pos, "y": y}, {"x": -x_pos, "y": y}]
    assert_all_on_cpu(if_model(), feeds_list)


def test_if_branches_may_give_different_shapes():
    then_branch = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["t"])], "then", [], [vi("t", [2, 5])]
    )
    else_branch = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["e"])], "else", [], [vi("e", [2, 3])]
    )
    model = model_of(
        [helper.make_node("If", ["c"], ["y"], then_branch=then_branch, else_branch=else_branch)],
        [vi("c", [], BOOL), vi("x", [2, 3])],
        [vi("y", [2, None])],
        [const("W", np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32))],
    )
    x = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
    feeds = [{"c": np.array(flag), "x": x} for flag in (True, False)]
    assert_all_on_cpu(model, feeds)


# ---- Loop ----


def loop_model(trip_count: bool, cond: bool, scan: bool = True, opset: int = 17) -> onnx.ModelProto:
    """h <- tanh(h @ R + x * i) while i < limit (the body's cond); scan outputs h and float(i).

    R is an outer initializer, x and limit outer graph inputs; M and cond are optional inputs.
    """
    body_nodes = [
        helper.make_node("Cast", ["i"], ["fi"], to=F),
        helper.make_node("MatMul", ["h_in", "R"], ["hr"]),
        helper.make_node("Mul", ["x", "fi"], ["xi"]),
        helper.make_node("Add", ["hr", "xi"], ["pre"]),
        helper.make_node("Tanh", ["pre"], ["h_out"]),
        helper.make_node("Add", ["i", "one"], ["next_i"]),
        helper.make_node("Less", ["next_i", "limit"], ["cond_out"]),
    ]
    outputs = [vi("cond_out", [], BOOL), vi("h_out", [1, 4])]
    if scan:
        body_nodes += [
            helper.make_node("Identity", ["h_out"], ["h_scan"]),
            helper.make_node("Identity", ["fi"], ["i_scan"]),
        ]
        outputs += [vi("h_scan", [1, 4]), vi("i_scan", [])]
    body = helper.make_graph(
        body_nodes,
        "body",
        [vi("i", [], I64), vi("cond_in", [], BOOL), vi("h_in", [1, 4])],
        outputs,
        [const("one", np.array(1, np.int64))],
    )
    loop_out = ["h_final", "hs", "is"] if scan else ["h_final"]
    node = helper.make_node(
        "Loop", ["M" if trip_count else "", "c" if cond else "", "h0"], loop_out, body=body
    )
    inputs = [vi("h0", [1, 4]), vi("x", [1, 4]), vi("limit", [], I64)]
    inputs += ([vi("M", [], I64)] if trip_count else []) + ([vi("c", [], BOOL)] if cond else [])
    graph_outputs = [vi("h_final", [1, 4])]
    if scan:
        graph_outputs += [vi("hs", [None, 1, 4]), vi("is", [None])]
    r = 0.5 * np.random.default_rng(4).standard_normal((4, 4)).astype(np.float32)
    return model_of([node], inputs, graph_outputs, [const("R", r)], opset)


def loop_feeds(rng: np.random.Generator, limit: int, trips: int | None, cond: bool | None):
    feeds = {
        "h0": rng.standard_normal((1, 4)).astype(np.float32),
        "x": rng.standard_normal((1, 4)).astype(np.float32),
        "limit": np.array(limit, np.int64),
    }
    if trips is not None:
        feeds["M"] = np.array(trips, np.int64)
    if cond is not None:
        feeds["c"] = np.array(cond)
    return feeds


@pytest.mark.parametrize(
    "trip_count, cond, runs",
    [
        (True, False, [(100, 5), (100, 1), (3, 7), (100, 0)]),  # (limit, M): M=0 included
        (False, True, [(4, True), (1, True), (6, False)]),  # (limit, cond): false at start
        (True, True, [(100, 5, True), (2, 5, True), (100, 5, False), (100, 0, True)]),
    ],
    ids=["trip_count_only", "cond_only", "both"],
)
def test_loop_trip_count_and_cond_variants_with_scan_outputs(trip_count, cond, runs):
    rng = np.random.default_rng(5)
    feeds_list = []
    for run in runs:
        limit = run[0]
        trips = run[1] if trip_count else None
        start = run[-1] if cond else None
        feeds_list.append(loop_feeds(rng, limit, trips, start))
    # onnx.reference stacks scalars as [T, 1] and never runs a Loop without cond: ORT only.
    assert_all_on_cpu(loop_model(trip_count, cond), feeds_list, reference=False)


def test_loop_with_zero_trips_gives_empty_scan_outputs_shaped_like_onnxruntime():
    feeds = loop_feeds(np.random.default_rng(6), 10, 0, True)
    session = InferenceSession(loop_model(True, True), backends=["cpu"])
    h_final, hs, iters = session.run(None, feeds)
    np.testing.assert_array_equal(h_final, feeds["h0"])
    assert hs.shape == (0, 1, 4) and iters.shape == (0,) and hs.dtype == np.float32


@pytest.mark.parametrize("opset", [9, 11, 13, 16, 19, 21])
def test_loop_carried_state_across_opsets(opset):
    rng = np.random.default_rng(opset)
    feeds = [loop_feeds(rng, 100, 6, True), loop_feeds(rng, 3, 6, True)]
    assert_all_on_cpu(loop_model(True, True, scan=False, opset=opset), feeds, reference=False)


def test_if_nested_in_loop_reads_values_from_both_scopes():
    """Each iteration adds x (outer graph) when i < k, else subtracts the carried y (body)."""
    then_branch = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "x"], ["t"])], "then", [], [vi("t", [5])]
    )
    else_branch = helper.make_graph(
        [helper.make_node("Sub", ["acc_in", "y_in"], ["e"])], "else", [], [vi("e", [5])]
    )
    body = helper.make_graph(
        [
            helper.make_node("Less", ["i", "k"], ["early"]),
            helper.make_node(
                "If", ["early"], ["acc_out"], then_branch=then_branch, else_branch=else_branch
            ),
            helper.make_node("Constant", [], ["decay"], value_float=0.9),  # kept in subgraphs
            helper.make_node("Mul", ["y_in", "decay"], ["y_out"]),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Identity", ["acc_out"], ["acc_scan"]),
        ],
        "body",
        [vi("i", [], I64), vi("cond_in", [], BOOL), vi("acc_in", [5]), vi("y_in", [5])],
        [vi("cond_out", [], BOOL), vi("acc_out", [5]), vi("y_out", [5]), vi("acc_scan", [5])],
    )
    model = model_of(
        [helper.make_node("Loop", ["M", "", "acc0", "y0"], ["acc", "y", "accs"], body=body)],
        [vi("M", [], I64), vi("k", [], I64), vi("x", [5]), vi("acc0", [5]), vi("y0", [5])],
        [vi("acc", [5]), vi("y", [5]), vi("accs", [None, 5])],
    )
    rng = np.random.default_rng(7)
    feeds = [
        {
            "M": np.array(6, np.int64),
            "k": np.array(k, np.int64),
            **{n: rng.standard_normal(5).astype(np.float32) for n in ("x", "acc0", "y0")},
        }
        for k in (0, 3, 9)
    ]
    assert_all_on_cpu(model, feeds, reference=False)


# ---- Scan ----


def cumsum_scan_model(
    directions: list[int],
    axes: list[int],
    out_directions: list[int],
    out_axes: list[int],
    opset: int,
) -> onnx.ModelProto:
    """Two scan inputs: a running sum of a (state) and the scan outputs sum and a * b."""
    body = helper.make_graph(
        [
            helper.make_node("Add", ["sum_in", "a_t"], ["sum_out"]),
            helper.make_node("Identity", ["sum_out"], ["sum_scan"]),
            helper.make_node("Mul", ["a_t", "b_t"], ["ab_scan"]),
        ],
        "body",
        [vi("sum_in", [3]), vi("a_t", [3]), vi("b_t", [3])],
        [vi("sum_out", [3]), vi("sum_scan", [3]), vi("ab_scan", [3])],
    )
    node = helper.make_node(
        "Scan",
        ["s0", "a", "b"],
        ["s", "sums", "abs"],
        body=body,
        num_scan_inputs=2,
        scan_input_directions=directions,
        scan_input_axes=axes,
        scan_output_directions=out_directions,
        scan_output_axes=out_axes,
    )
    shape_a = [5, 3] if axes[0] in (0, -2) else [3, 5]
    shape_b = [5, 3] if axes[1] in (0, -2) else [3, 5]
    return model_of(
        [node],
        [vi("s0", [3]), vi("a", shape_a), vi("b", shape_b)],
        [vi("s", [3]), vi("sums", [None, None]), vi("abs", [None, None])],
        opset=opset,
    )


@pytest.mark.parametrize(
    "directions, axes, out_directions, out_axes, opset",
    [
        ([0, 0], [0, 0], [0, 0], [0, 0], 9),
        ([0, 0], [0, 0], [0, 1], [0, 1], 9),
        ([1, 0], [0, 1], [1, 0], [1, 0], 11),
        ([0, 1], [-1, 0], [1, 1], [0, -1], 17),
        ([1, 1], [1, -2], [0, 1], [-2, 1], 21),
    ],
)
def test_scan_cumulative_sum_directions_and_axes(directions, axes, out_directions, out_axes, opset):
    model = cumsum_scan_model(directions, axes, out_directions, out_axes, opset)
    rng = np.random.default_rng(8)
    feeds = {
        name: rng.standard_normal(
            tuple(v.type.tensor_type.shape.dim[i].dim_value for i in (0, 1))
        ).astype(np.float32)
        for name, v in (("a", model.graph.input[1]), ("b", model.graph.input[2]))
    }
    feeds["s0"] = rng.standard_normal(3).astype(np.float32)
    # onnx.reference's Scan knows only forward directions and axis 0.
    defaults = [0, 0] == directions == axes == out_directions == out_axes
    assert_all_on_cpu(model, [feeds], reference=defaults)


def test_scan_rnn_cell_with_outer_weights():
    """h_t = tanh(x_t W + h R + b), W R b outer initializers; outputs h_T and all h (axis 1)."""
    body = helper.make_graph(
        [
            helper.make_node("MatMul", ["x_t", "W"], ["xw"]),
            helper.make_node("MatMul", ["h_in", "R"], ["hr"]),
            helper.make_node("Add", ["xw", "hr"], ["s"]),
            helper.make_node("Add", ["s", "b"], ["pre"]),
            helper.make_node("Tanh", ["pre"], ["h_out"]),
            helper.make_node("Identity", ["h_out"], ["h_scan"]),
        ],
        "rnn",
        [vi("h_in", [2, 8]), vi("x_t", [2, 6])],
        [vi("h_out", [2, 8]), vi("h_scan", [2, 8])],
    )
    rng = np.random.default_rng(9)
    weights = [
        const("W", 0.4 * rng.standard_normal((6, 8)).astype(np.float32)),
        const("R", 0.4 * rng.standard_normal((8, 8)).astype(np.float32)),
        const("b", 0.1 * rng.standard_normal(8).astype(np.float32)),
    ]
    node = helper.make_node(
        "Scan", ["h0", "xs"], ["h", "hs"], body=body, num_scan_inputs=1, scan_output_axes=[1]
    )
    model = model_of(
        [node],
        [vi("h0", [2, 8]), vi("xs", [7, 2, 6])],
        [vi("h", [2, 8]), vi("hs", [2, None, 8])],
        weights,
    )
    feeds = [
        {
            "h0": rng.standard_normal((2, 8)).astype(np.float32),
            "xs": rng.standard_normal((7, 2, 6)).astype(np.float32),
        }
        for _ in range(2)
    ]
    assert_all_on_cpu(model, feeds, reference=False)  # onnx.reference: output axis 0 only


# ---- declines, errors, plan ----


def test_unsupported_inner_node_declines_the_loop_with_its_reason_and_falls_back():
    body = helper.make_graph(
        [
            # An ellipsis equation: an Einsum the native kernel declines.
            helper.make_node(
                "Einsum", ["v_in"], ["v_out"], name="inner_einsum", equation="...i->...i"
            ),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "body",
        [vi("i", [], I64), vi("cond_in", [], BOOL), vi("v_in", [4])],
        [vi("cond_out", [], BOOL), vi("v_out", [4])],
    )
    model = model_of(
        [
            helper.make_node("Loop", ["M", "c", "v0"], ["v"], name="loop", body=body),
            helper.make_node("Relu", ["v"], ["out"], name="relu"),
        ],
        [vi("M", [], I64), vi("c", [], BOOL), vi("v0", [4])],
        [vi("out", [4])],
    )
    answer = get_backend("cpu").capability(ir.from_proto(model).graph)["loop"]
    assert not answer.claimed
    assert answer.reason.startswith("Loop: body node 'inner_einsum' (Einsum): ")
    assert "ellipsis" in answer.reason

    session = InferenceSession(model, backends=["cpu", "reference"])
    placed = {n.name: n for n in session.placement.nodes}
    assert placed["loop"].backend == "reference" and placed["relu"].backend == "cpu"
    assert "inner_einsum" in placed["loop"].declined["cpu"]
    feeds = {
        "M": np.array(3, np.int64),
        "c": np.array(True),  # onnx.reference never runs a Loop without cond
        "v0": np.random.default_rng(10).standard_normal(4).astype(np.float32),
    }
    assert_close(session.run(None, feeds), run_onnxruntime(model, feeds), "fallback")


def test_sequence_loop_carried_value_is_declined():
    body = helper.make_graph(
        [
            helper.make_node("SequenceInsert", ["seq_in", "x"], ["seq_out"]),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "body",
        [
            vi("i", [], I64),
            vi("cond_in", [], BOOL),
            helper.make_tensor_sequence_value_info("seq_in", F, [2]),
        ],
        [vi("cond_out", [], BOOL), helper.make_tensor_sequence_value_info("seq_out", F, [2])],
    )
    model = model_of(
        [
            helper.make_node("SequenceEmpty", [], ["seq0"], dtype=F),
            helper.make_node("Loop", ["M", "", "seq0"], ["seq"], name="loop", body=body),
            helper.make_node("ConcatFromSequence", ["seq"], ["y"], axis=0),
        ],
        [vi("M", [], I64), vi("x", [2])],
        [vi("y", [None])],
    )
    graph = ir.from_proto(onnx.shape_inference.infer_shapes(model)).graph
    answer = get_backend("cpu").capability(graph)["loop"]
    assert not answer.claimed and "only tensors run natively" in answer.reason


def test_loop_trip_count_of_wrong_size_raises_at_run_time():
    model = loop_model(True, False, scan=False)
    model.graph.input[3].CopyFrom(vi("M", ["n"], I64))
    session = InferenceSession(model, backends=["cpu"])
    feeds = loop_feeds(np.random.default_rng(11), 5, 2, None)
    feeds["M"] = np.array([2, 3], np.int64)
    with pytest.raises(ExecutionError, match="Loop M: expected a one-element int64 tensor"):
        session.run(None, feeds)


def test_loop_of_constants_is_not_folded_and_subplans_run_in_cpp():
    """A Loop whose inputs are all plan constants still runs as a step (never folded)."""
    # Body plan: inputs (i, cond, v), outputs (cond, v + 1) with `one` a body constant.
    body = _native.Plan(
        [("Add", "", 17, [2, 3], [4], {}, "add"), ("Identity", "", 17, [1], [5], {}, "id")],
        6,
        [0, 1, 2],
        [5, 4],
        {3: np.array([1.0, 2.0], np.float32)},
        1,
        input_dtypes=["int64", "bool", "float32"],
    )
    assert body.output_dtypes == ["bool", "float32"]
    loop = ("Loop", "", 17, [0, 1, 2], [3], {"body": body, "__xinrt_outer_inputs": 0}, "loop")
    constants = {
        0: np.array(4, np.int64),
        1: np.array(True),
        2: np.array([0.5, -1.0], np.float32),
    }
    plan = _native.Plan([loop], 4, [], [3], constants, 1)
    assert plan.steps == ["loop (Loop)"]
    np.testing.assert_allclose(plan.run([])[0], [4.5, 7.0])


def test_if_on_cpu_reads_an_outer_value_made_by_another_backend():
    """The branch reads `c` (an ellipsis Einsum, on reference): an input of the cpu partition."""
    then_branch = helper.make_graph(
        [helper.make_node("Mul", ["c", "x"], ["t"])], "then", [], [vi("t", [6])]
    )
    else_branch = helper.make_graph(
        [helper.make_node("Sub", ["x", "c"], ["e"])], "else", [], [vi("e", [6])]
    )
    model = model_of(
        [
            helper.make_node("Einsum", ["x"], ["c"], name="einsum", equation="...i->...i"),
            helper.make_node(
                "If", ["flag"], ["y"], name="if", then_branch=then_branch, else_branch=else_branch
            ),
        ],
        [vi("flag", [], BOOL), vi("x", [6])],
        [vi("y", [6])],
    )
    session = InferenceSession(model, backends=["cpu", "reference"])
    placed = {n.name: n.backend for n in session.placement.nodes}
    assert placed == {"einsum": "reference", "if": "cpu"}
    assert [p.backend for p in session.placement.partitions] == ["reference", "cpu"]
    assert "c" in session.placement.partitions[1].inputs
    x = np.random.default_rng(12).standard_normal(6).astype(np.float32)
    for flag in (True, False):
        feeds = {"flag": np.array(flag), "x": x}
        assert_close(session.run(None, feeds), run_onnxruntime(model, feeds), f"flag={flag}")


def test_loop_carried_value_may_grow_each_iteration():
    """A decoder's token buffer: buf = Concat(buf, row * i) changes shape every iteration."""
    body = helper.make_graph(
        [
            helper.make_node("Cast", ["i"], ["fi"], to=F),
            helper.make_node("Mul", ["row", "fi"], ["scaled"]),
            helper.make_node("Concat", ["buf_in", "scaled"], ["buf_out"], axis=0),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "body",
        [vi("i", [], I64), vi("cond_in", [], BOOL), vi("buf_in", [None, 3])],
        [vi("cond_out", [], BOOL), vi("buf_out", [None, 3])],
    )
    model = model_of(
        [helper.make_node("Loop", ["M", "", "buf0"], ["buf"], body=body)],
        [vi("M", [], I64), vi("row", [1, 3]), vi("buf0", [None, 3])],
        [vi("buf", [None, 3])],
    )
    rng = np.random.default_rng(13)
    feeds = [
        {
            "M": np.array(trips, np.int64),
            "row": rng.standard_normal((1, 3)).astype(np.float32),
            "buf0": rng.standard_normal((start, 3)).astype(np.float32),
        }
        for trips, start in ((4, 1), (0, 2), (3, 0))
    ]
    assert_all_on_cpu(model, feeds, reference=False)


def test_scan_inputs_of_different_lengths_raise_at_run_time():
    model = cumsum_scan_model([0, 0], [0, 0], [0, 0], [0, 0], 17)
    for i in (1, 2):
        model.graph.input[i].CopyFrom(vi(model.graph.input[i].name, [None, 3]))
    session = InferenceSession(model, backends=["cpu"])
    rng = np.random.default_rng(14)
    feeds = {
        "s0": rng.standard_normal(3).astype(np.float32),
        "a": rng.standard_normal((4, 3)).astype(np.float32),
        "b": rng.standard_normal((5, 3)).astype(np.float32),
    }
    with pytest.raises(ExecutionError, match="Scan: scan inputs have different sequence lengths"):
        session.run(None, feeds)

