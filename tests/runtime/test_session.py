"""InferenceSession: the ORT-like API, input validation, and a session that survives bad runs."""

from __future__ import annotations

import threading
import time

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import xinrt
from xinrt import (
    BackendNotFoundError,
    BackendUnavailableError,
    InferenceSession,
    InvalidArgumentError,
    InvalidInputError,
    SessionOptions,
)


def _ort_run(model: onnx.ModelProto, feeds):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, feeds
    )


def _x(rows=5, seed=3):
    return np.random.default_rng(seed).standard_normal((rows, 8)).astype(np.float32)


@pytest.mark.parametrize("backends", [["cpu"], ["ort"], ["reference"], ["cpu", "ort", "reference"]])
def test_each_backend_matches_onnxruntime(mlp_model, backends):
    session = InferenceSession(mlp_model, backends=backends)
    got = session.run(None, {"x": _x()})
    np.testing.assert_allclose(got[0], _ort_run(mlp_model, {"x": _x()})[0], rtol=1e-4, atol=1e-6)


def test_inputs_outputs_and_metadata_read_like_onnxruntime(mlp_model):
    session = InferenceSession(mlp_model, backends=["reference"])
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.shape, inp.type) == ("x", ["N", 8], "tensor(float)")
    assert (out.name, out.shape, out.type) == ("y", ["N", 4], "tensor(float)")
    meta = session.get_modelmeta()
    assert meta.producer_name == "xinrt-tests" and meta.description == "a small MLP"
    assert meta.version == 3 and meta.graph_name == "test"


def test_symbolic_batch_dim_accepts_any_size(mlp_model):
    session = InferenceSession(mlp_model, backends=["cpu"])
    for rows in (1, 3, 17):
        assert session.run(None, {"x": _x(rows)})[0].shape == (rows, 4)


def test_run_returns_requested_outputs_in_order(mlp_model):
    session = InferenceSession(mlp_model, backends=["ort"])
    (y,) = session.run(["y"], {"x": _x()})
    assert y.shape == (5, 4) and y.flags.c_contiguous and y.flags.writeable
    with pytest.raises(InvalidArgumentError, match="no output 'z'"):
        session.run(["z"], {"x": _x()})


def test_missing_input(mlp_model):
    session = InferenceSession(mlp_model, backends=["reference"])
    with pytest.raises(InvalidInputError, match="missing inputs: x"):
        session.run(None, {})


def test_misspelled_input_suggests_the_right_name(mlp_model):
    session = InferenceSession(mlp_model, backends=["reference"])
    with pytest.raises(InvalidInputError, match="no input 'X'.*Did you mean 'x'"):
        session.run(None, {"X": _x()})


def test_extra_input(mlp_model):
    session = InferenceSession(mlp_model, backends=["reference"])
    with pytest.raises(InvalidInputError, match="no input 'extra'"):
        session.run(None, {"x": _x(), "extra": _x()})


def test_wrong_dtype_names_expected_and_found(mlp_model):
    session = InferenceSession(mlp_model, backends=["reference"])
    with pytest.raises(InvalidInputError, match="expected dtype tensor\\(float\\).*got float64"):
        session.run(None, {"x": _x().astype(np.float64)})


def test_wrong_rank(mlp_model):
    session = InferenceSession(mlp_model, backends=["reference"])
    with pytest.raises(InvalidInputError, match="expected rank 2"):
        session.run(None, {"x": np.zeros((2, 2, 8), np.float32)})


def test_static_dim_mismatch(mlp_model):
    session = InferenceSession(mlp_model, backends=["reference"])
    with pytest.raises(InvalidInputError, match="dimension 1 must be 8"):
        session.run(None, {"x": np.zeros((2, 7), np.float32)})


def test_session_stays_usable_after_a_bad_run(mlp_model):
    session = InferenceSession(mlp_model, backends=["cpu", "ort"])
    with pytest.raises(InvalidInputError):
        session.run(None, {"x": np.zeros((2, 7), np.float32)})
    np.testing.assert_allclose(
        session.run(None, {"x": _x()})[0], _ort_run(mlp_model, {"x": _x()})[0], rtol=1e-4, atol=1e-6
    )


def test_unknown_backend_lists_the_installed_ones(mlp_model):
    with pytest.raises(BackendNotFoundError, match="installed backends: cpu, .*ort, reference"):
        InferenceSession(mlp_model, backends=["npu9000"])


def test_unavailable_execution_provider_names_its_pip_package(mlp_model):
    with pytest.raises(BackendUnavailableError, match="onnxruntime-gpu"):
        InferenceSession(mlp_model, backends=["ort:cuda"])


def test_providers_map_to_backends_and_unavailable_ones_fall_back(mlp_model):
    with pytest.warns(RuntimeWarning, match="CUDAExecutionProvider"):
        session = InferenceSession(
            mlp_model, providers=["CUDAExecutionProvider", "CPUExecutionProvider"]
        )
    assert session.backends == ["ort"]
    assert {n.backend for n in session.placement.nodes} == {"ort"}


def test_default_chain_is_cpu_ort_reference(mlp_model):
    assert InferenceSession(mlp_model).backends == ["cpu", "ort", "reference"]


def test_bad_session_options_are_invalid_arguments(mlp_model):
    with pytest.raises(InvalidArgumentError, match="intra_op_num_threads"):
        InferenceSession(mlp_model, SessionOptions(intra_op_num_threads=-1))
    with pytest.raises(InvalidArgumentError, match="graph_optimization_level"):
        InferenceSession(mlp_model, SessionOptions(graph_optimization_level=5))  # type: ignore


def test_one_options_object_serves_several_sessions(mlp_model, det_model):
    options = SessionOptions(intra_op_num_threads=1)
    first = InferenceSession(mlp_model, options, backends=["cpu"])
    second = InferenceSession(det_model, options, backends=["ort"])
    assert first.get_session_options() is second.get_session_options() is options


def test_run_from_many_threads_gives_the_same_answers(mlp_model):
    session = InferenceSession(
        mlp_model,
        backends=["cpu", "ort"],
        sess_options=SessionOptions(placement_overrides={"Relu": "ort"}),
    )
    inputs = [_x(rows, seed) for seed, rows in enumerate((1, 4, 9, 16) * 4)]
    expected = [session.run(None, {"x": x})[0] for x in inputs]
    results: list = [None] * len(inputs)

    def work(i: int) -> None:
        for _ in range(10):
            results[i] = session.run(None, {"x": inputs[i]})[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_graph_input_passed_straight_to_an_output_is_a_copy():
    from tests.helpers import make_model, tensor

    model = make_model(
        [onnx.helper.make_node("Relu", ["x"], ["r"])],
        [tensor("x", [3])],
        [tensor("r", [3]), tensor("x", [3])],
    )
    session = InferenceSession(model, backends=["reference"])
    x = np.array([-1.0, 0.0, 2.0], np.float32)
    relu, echoed = session.run(None, {"x": x})
    echoed[0] = 42.0
    assert x[0] == -1.0 and relu.tolist() == [0.0, 0.0, 2.0]


def test_public_api_is_listed():
    for name in (
        "InferenceSession",
        "SessionOptions",
        "XinrtError",
        "available_backends",
        "backend_info",
        "PlacementReport",
    ):
        assert name in xinrt.__all__
    info = xinrt.backend_info()
    assert info["ort:cuda"]["available"] is False if "ort:cuda" in info else True
    assert info["cpu"]["available"] and info["reference"]["devices"]


def test_provider_options_reach_the_execution_provider(mlp_model, monkeypatch):
    import xinrt.backends.ort.backend as ort_backend

    seen: list = []
    real = ort_backend._ort.InferenceSession

    def spy(model, options=None, providers=None, **kwargs):
        seen.append(providers)
        return real(model, options, providers=providers, **kwargs)

    monkeypatch.setattr(ort_backend._ort, "InferenceSession", spy)
    session = InferenceSession(
        mlp_model,
        providers=["CPUExecutionProvider"],
        provider_options=[{"arena_extend_strategy": "kSameAsRequested"}],
    )
    assert session.backends == ["ort"]
    assert seen[-1] == [("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})]
    with pytest.raises(InvalidArgumentError, match="one dict per entry"):
        InferenceSession(mlp_model, providers=["CPUExecutionProvider"], provider_options=[{}, {}])


@pytest.mark.parametrize("backends", [["cpu"], ["ort"], ["cpu", "reference"]])
def test_session_keeps_no_parsed_proto_once_compiled(mlp_model, backends):
    """Weights are held once: after compiling, no IR tensor still points into the parsed
    protobuf (whose arena would keep every weight alive a second time), for any backend. ORT
    alone loads the bytes itself: the IR's tensors may keep the parsed proto instead of a copy
    of it (still one copy of the weights on xinrt's side), but all of them do."""
    session = xinrt.InferenceSession(mlp_model.SerializeToString(), backends=backends)
    import onnx_ir as ir

    graph = session._ir.graph
    assert graph.initializers, "the test model must have weights"
    in_proto = [
        isinstance(v.const_value, ir.serde.TensorProtoTensor) for v in graph.initializers.values()
    ]
    assert in_proto == [backends == ["ort"]] * len(in_proto)
    assert session._proto is None and session._given is None
    x = np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)
    want = ort.InferenceSession(mlp_model.SerializeToString()).run(None, {"x": x})[0]
    np.testing.assert_allclose(session.run(None, {"x": x})[0], want, rtol=1e-4, atol=1e-6)
    assert session.get_modelmeta().graph_name == mlp_model.graph.name


def test_get_outputs_shows_the_declared_outputs_as_ort_does():
    """Declared dims, completed by inference as ORT does: an unnamed dim takes the inferred
    symbol (also when Identity removal hands the output to its producer), a declared symbol
    that inference knows to be static shows the number."""
    nodes = [
        onnx.helper.make_node("Relu", ["x"], ["r"]),
        onnx.helper.make_node("Identity", ["r"], ["y"]),
        onnx.helper.make_node("Concat", ["x", "x"], ["z"], axis=1),
    ]
    y = onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [None, None])
    z = onnx.helper.make_tensor_value_info("z", onnx.TensorProto.FLOAT, ["n", "Concat_dim_1"])
    from tests.helpers import make_model, tensor

    model = make_model(nodes, [tensor("x", ["n", 4])], [y, z])
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    session = InferenceSession(model)
    ours = [(a.name, a.shape, a.type) for a in session.get_outputs()]
    assert ours == [(a.name, a.shape, a.type) for a in want.get_outputs()]
    assert ours == [("y", ["n", 4], "tensor(float)"), ("z", ["n", 8], "tensor(float)")]


def test_backend_busy_seconds_counts_each_backend_that_ran(mlp_model, det_model):
    priority = SessionOptions(placement="priority", track_backend_busy=True)
    split = InferenceSession(det_model, priority, backends=["cpu", "ort"])
    assert {p.backend for p in split.placement.partitions} == {"cpu", "ort"}
    assert split.backend_busy_seconds() == {}  # nothing ran yet
    x = np.random.default_rng(5).standard_normal((2, 3, 3)).astype(np.float32)
    started = time.perf_counter()
    for _ in range(5):
        split.run(None, {"x": x})
    wall = time.perf_counter() - started
    busy = split.backend_busy_seconds()
    assert sorted(busy) == ["cpu", "ort"] and min(busy.values()) > 0
    assert sum(busy.values()) <= wall
    tracked = SessionOptions(track_backend_busy=True)
    alone = InferenceSession(mlp_model, tracked, backends=["cpu", "ort"])
    alone.run(None, {"x": _x()})
    assert list(alone.backend_busy_seconds()) == [p.backend for p in alone.placement.partitions]


def test_backend_busy_seconds_needs_the_option(mlp_model):
    session = InferenceSession(mlp_model, backends=["cpu"])
    session.run(None, {"x": _x()})
    with pytest.raises(InvalidArgumentError, match="track_backend_busy"):
        session.backend_busy_seconds()
