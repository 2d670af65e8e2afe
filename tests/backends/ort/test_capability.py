"""In-context capability: ORT's own whole-model assignment, mapped to our node names, cached."""

from __future__ import annotations

import numpy as np
import onnx
import onnx_ir as ir
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt import InferenceSession
from xinrt.backend import get_backend
from xinrt.backends.ort.assignment import map_to_graph, profile_prefix, read_assignment
from xinrt.backends.ort.session_model import graph_session_model, proto_session_model
from xinrt.model import load_model


def _graph(model: onnx.ModelProto) -> ir.Graph:
    return load_model(model).ir_model.graph


def _chain() -> ir.Graph:
    """n1 -> n12 -> n2 (Conv, Relu, Softmax): names where n1 is a prefix of n12."""
    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.standard_normal((4, 2, 3, 3)).astype(np.float32), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="n1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="n12"),
        helper.make_node("Softmax", ["r"], ["y"], name="n2", axis=1),
    ]
    model = make_model(nodes, [tensor("x", [1, 2, 5, 5])], [tensor("y", [1, 4, 5, 5])], [w])
    return _graph(model)


def test_layout_renamed_nodes_map_back_to_ours_by_name_prefix():
    records = [
        ("WebGpuExecutionProvider", "Transpose", "Transpose"),  # inserted by ORT: nobody's
        ("WebGpuExecutionProvider", "n1_token_3", "Conv"),  # moved to NHWC and renamed
        ("CPUExecutionProvider", "n12", "Relu"),
        ("WebGpuExecutionProvider", "n2", "Softmax"),
    ]
    assert map_to_graph(records, _chain()) == {
        "n1": "WebGpuExecutionProvider",
        "n12": "CPUExecutionProvider",  # not taken for n1's: "n1" + "2" is no separator
        "n2": "WebGpuExecutionProvider",
    }


def test_a_node_orts_optimizer_removed_goes_with_the_kernel_it_feeds():
    # Conv+Relu fused: ORT reports only the Conv, under a fusion name of its own.
    records = [
        ("MyExecutionProvider", "n1/FusedConvRelu", "FusedConv"),
        ("CPUExecutionProvider", "n2", "Softmax"),
    ]
    got = map_to_graph(records, _chain())
    assert got["n1"] == "MyExecutionProvider"
    assert got["n12"] == "CPUExecutionProvider"  # nearest mapped consumer (n2), then producer
    records = [("MyExecutionProvider", "n1", "Conv")]
    assert map_to_graph(records, _chain())["n2"] == "MyExecutionProvider"  # via producers


def test_weights_handed_over_in_memory_give_the_same_results_as_serialized_ones():
    assert graph_session_model(_chain()).external == {}  # 72 weights stay inline
    rng = np.random.default_rng(1)
    big = numpy_helper.from_array(rng.standard_normal((64, 128)).astype(np.float32), "w")
    proto = make_model(
        [helper.make_node("MatMul", ["a", "w"], ["b"], name="mm")],
        [tensor("a", [3, 64])],
        [tensor("b", [3, 128])],
        [big],
    )
    a = rng.standard_normal((3, 64)).astype(np.float32)
    want = ort.InferenceSession(proto.SerializeToString()).run(None, {"a": a})[0]
    for built in (graph_session_model(_graph(proto)), proto_session_model(proto)):
        assert list(built.external) == ["w"] and len(built.model) < 1000
        options = ort.SessionOptions()
        built.attach(options)
        got = ort.InferenceSession(built.model, options).run(None, {"a": a})[0]
        np.testing.assert_array_equal(got, want)


def test_a_profiled_run_names_each_nodes_provider_for_orts_without_assignment_info():
    graph = _chain()
    built = graph_session_model(graph)
    options = ort.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = profile_prefix()
    built.attach(options)
    session = ort.InferenceSession(built.model, options)
    answer = read_assignment(session, graph, profile_file=options.profile_file_prefix)
    assert answer.method == "profiled run"
    assert {name for _, name, _ in answer.records} >= {"n2"}
    assert set(map_to_graph(answer.records, graph).values()) == {"CPUExecutionProvider"}


def _dynamically_quantized_conv() -> onnx.ModelProto:
    """What onnxruntime.quantization.quantize_dynamic makes of a padded Conv."""
    rng = np.random.default_rng(5)
    w = numpy_helper.from_array(rng.integers(0, 255, (8, 3, 3, 3)).astype(np.uint8), "w_q")
    scale = numpy_helper.from_array(np.array([0.02], np.float32), "w_scale")
    nodes = [
        helper.make_node("DynamicQuantizeLinear", ["x"], ["x_q", "x_s", "x_zp"], name="dql"),
        helper.make_node("Mul", ["x_s", "w_scale"], ["s"], name="scale_mul"),
        helper.make_node("ConvInteger", ["x_q", "w_q", "x_zp"], ["acc"], name="conv", pads=[1] * 4),
        helper.make_node("Cast", ["acc"], ["acc_f"], name="cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["acc_f", "s"], ["y"], name="out_mul"),
    ]
    return make_model(nodes, [tensor("x", [1, 3, 8, 8])], [tensor("y", [1, 8, 8, 8])], [w, scale])


def test_ort_claims_every_node_of_a_dynamically_quantized_model_raw_ort_runs():
    model = _dynamically_quantized_conv()
    answers = get_backend("ort").capability(_graph(model))
    assert all(a.claimed for a in answers.values()), answers
    x = np.random.default_rng(2).standard_normal((1, 3, 8, 8)).astype(np.float32)
    want = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    session = InferenceSession(model, backends=["ort"])
    np.testing.assert_allclose(session.run(None, {"x": x})[0], want, rtol=1e-6, atol=1e-6)


def test_known_deviations_still_decline_nodes_orts_session_would_take():
    model = make_model(
        [
            helper.make_node("Relu", ["x"], ["r"], name="relu"),
            helper.make_node("DFT", ["r"], ["y"], name="dft", onesided=0),
        ],
        [tensor("x", [1, 8, 1])],
        [tensor("y", [1, 8, 2])],
    )
    answers = get_backend("ort").capability(_graph(model))
    assert answers["relu"].claimed
    assert not answers["dft"].claimed and "DFT" in answers["dft"].reason
