"""ONNX Runtime's Python API on xinrt, behaviour by behaviour, as ORT's docs describe it."""

from __future__ import annotations

import json
import threading

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import xinrt as ort
from tests.helpers import make_model, tensor


def _x(rows=3):
    return np.random.default_rng(1).standard_normal((rows, 8)).astype(np.float32)


def test_module_level_names_exist_like_onnxruntime():
    for name in (
        "InferenceSession",
        "SessionOptions",
        "RunOptions",
        "GraphOptimizationLevel",
        "ExecutionMode",
        "OrtValue",
        "get_available_providers",
        "get_device",
        "set_default_logger_severity",
        "get_version_string",
        "__version__",
        "Fail",
        "InvalidArgument",
        "NoSuchFile",
        "InvalidGraph",
    ):
        assert hasattr(ort, name), name
    assert "CPUExecutionProvider" in ort.get_available_providers()
    assert ort.get_device() == "CPU"
    assert "+xinrt" in ort.get_version_string()
    ort.set_default_logger_severity(3)
    with pytest.raises(ort.InvalidArgument):
        ort.set_default_logger_severity(9)


def test_exception_names_catch_xinrt_errors(tmp_path, mlp_model):
    from xinrt.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, NoSuchFile

    with pytest.raises(NoSuchFile):
        ort.InferenceSession(str(tmp_path / "missing.onnx"))
    session = ort.InferenceSession(mlp_model)
    with pytest.raises(InvalidArgument):
        session.run(None, {"x": _x().astype(np.float64)})
    with pytest.raises(Fail):
        session.run(None, {})


def test_session_options_fields_are_writable_and_shared(mlp_model):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.execution_mode = ort.ExecutionMode.ORT_PARALLEL
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    options.enable_mem_reuse = False
    options.use_deterministic_compute = True
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    first = ort.InferenceSession(mlp_model, options)
    second = ort.InferenceSession(mlp_model, sess_options=options)
    np.testing.assert_array_equal(first.run(None, {"x": _x()})[0], second.run(None, {"x": _x()})[0])


def test_register_custom_ops_library_fails_clearly():
    with pytest.raises(ort.InvalidArgument, match="custom-op"):
        ort.SessionOptions().register_custom_ops_library("libcustom.so")


@pytest.mark.parametrize(
    "providers",
    [
        None,
        ["CPUExecutionProvider"],
        [("CPUExecutionProvider", {})],
        [
            "CUDAExecutionProvider",
            ("CPUExecutionProvider", {"arena_extend_strategy": "kNextPowerOfTwo"}),
        ],
    ],
)
def test_providers_in_every_form(mlp_model, providers):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        session = ort.InferenceSession(mlp_model, providers=providers)
    assert "CPUExecutionProvider" in session.get_providers()
    assert session.run(None, {"x": _x()})[0].shape == (3, 4)


def test_provider_options_are_reported(mlp_model):
    session = ort.InferenceSession(
        mlp_model,
        providers=[("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})],
    )
    assert session.get_provider_options()["CPUExecutionProvider"] == {
        "arena_extend_strategy": "kSameAsRequested"
    }


def test_run_outputs_are_writable_contiguous_and_inputs_may_be_views(mlp_model):
    session = ort.InferenceSession(mlp_model)
    wide = np.random.default_rng(2).standard_normal((3, 16)).astype(np.float32)
    view = wide[:, ::2]  # not contiguous
    (y,) = session.run(None, {"x": view})
    (z,) = session.run(None, {"x": np.ascontiguousarray(view)})
    np.testing.assert_array_equal(y, z)
    assert y.flags.c_contiguous and y.flags.writeable


def test_scalars_bool_int64_float16_and_strings():
    nodes = [
        helper.make_node("Identity", ["s"], ["s_out"]),
        helper.make_node("Not", ["b"], ["b_out"]),
        helper.make_node("Add", ["i", "i"], ["i_out"]),
        helper.make_node("Add", ["h", "h"], ["h_out"]),
        helper.make_node("Identity", ["t"], ["t_out"]),
    ]
    model = make_model(
        nodes,
        [
            tensor("s", [], TensorProto.FLOAT),
            tensor("b", [2], TensorProto.BOOL),
            tensor("i", [2], TensorProto.INT64),
            tensor("h", [2], TensorProto.FLOAT16),
            tensor("t", [2], TensorProto.STRING),
        ],
        [
            tensor("s_out", [], TensorProto.FLOAT),
            tensor("b_out", [2], TensorProto.BOOL),
            tensor("i_out", [2], TensorProto.INT64),
            tensor("h_out", [2], TensorProto.FLOAT16),
            tensor("t_out", [2], TensorProto.STRING),
        ],
    )
    session = ort.InferenceSession(model)
    s, b, i, h, t = session.run(
        None,
        {
            "s": np.float32(2.5),
            "b": np.array([True, False]),
            "i": np.array([1, 2], np.int64),
            "h": np.array([0.5, 1.5], np.float16),
            "t": np.array(["ab", "c"]),
        },
    )
    assert s.shape == () and float(s) == 2.5
    assert b.tolist() == [False, True] and i.tolist() == [2, 4]
    assert h.dtype == np.float16 and h.tolist() == [1.0, 3.0]
    assert t.tolist() == ["ab", "c"]


def test_input_shapes_may_change_between_runs(mlp_model):
    session = ort.InferenceSession(mlp_model)
    assert [session.run(None, {"x": _x(n)})[0].shape[0] for n in (1, 6, 2)] == [1, 6, 2]


def test_output_shape_differing_from_declared_warns_and_returns_computed():
    model = make_model(
        [helper.make_node("Flatten", ["x"], ["y"], axis=0)],
        [tensor("x", [2, 3])],
        [tensor("y", [6])],
    )
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    with pytest.warns(RuntimeWarning, match="output 'y' has shape \\[1, 6\\]"):
        (y,) = session.run(None, {"x": np.ones((2, 3), np.float32)})
    assert y.shape == (1, 6)


def test_unnamed_dims_are_none_and_named_are_strings():
    value = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", None, 4])
    model = make_model(
        [helper.make_node("Relu", ["x"], ["y"])],
        [value],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", None, 4])],
    )
    (arg,) = ort.InferenceSession(model).get_inputs()
    assert arg.shape == ["batch", None, 4]


def test_free_dimension_override_fixes_a_symbolic_dim(mlp_model):
    options = ort.SessionOptions()
    options.add_free_dimension_override_by_name("N", 3)
    session = ort.InferenceSession(mlp_model, options)
    assert session.get_inputs()[0].shape == [3, 8]
    with pytest.raises(ort.InvalidArgument, match="dimension 0 must be 3"):
        session.run(None, {"x": _x(2)})


def test_overridable_initializers_are_listed_and_can_be_fed():
    w = numpy_helper.from_array(np.ones(2, np.float32), "w")
    model = make_model(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        [tensor("x", [2]), tensor("w", [2])],
        [tensor("y", [2])],
        [w],
    )
    session = ort.InferenceSession(model)
    assert [a.name for a in session.get_overridable_initializers()] == ["w"]
    assert [a.name for a in session.get_inputs()] == ["x"]
    x = np.array([1.0, 2.0], np.float32)
    assert session.run(None, {"x": x})[0].tolist() == [2.0, 3.0]
    assert session.run(None, {"x": x, "w": np.full(2, 5, np.float32)})[0].tolist() == [6.0, 7.0]


def test_run_async_calls_back_with_outputs(mlp_model):
    session = ort.InferenceSession(mlp_model)
    done = threading.Event()
    box: dict = {}

    def callback(outputs, user_data, error):
        box.update(outputs=outputs, user_data=user_data, error=error)
        done.set()

    session.run_async(None, {"x": _x()}, callback, "tag")
    assert done.wait(30)
    assert box["error"] == "" and box["user_data"] == "tag"
    np.testing.assert_array_equal(box["outputs"][0], session.run(None, {"x": _x()})[0])


def test_ort_values_and_run_with_ort_values(mlp_model):
    session = ort.InferenceSession(mlp_model)
    value = ort.OrtValue.ortvalue_from_numpy(_x())
    assert value.shape() == [3, 8] and value.data_type() == "tensor(float)"
    assert value.device_name() == "cpu" and value.is_tensor()
    (out,) = session.run_with_ort_values(["y"], {"x": value})
    np.testing.assert_array_equal(out.numpy(), session.run(None, {"x": _x()})[0])
    with pytest.raises(ort.InvalidArgument, match="device 'cuda'"):
        ort.OrtValue.ortvalue_from_numpy(_x(), "cuda", 0)


def test_io_binding_with_cpu_inputs_and_outputs(mlp_model):
    session = ort.InferenceSession(mlp_model)
    binding = session.io_binding()
    binding.bind_cpu_input("x", _x())
    binding.bind_output("y")
    session.run_with_iobinding(binding)
    (y,) = binding.copy_outputs_to_cpu()
    np.testing.assert_array_equal(y, session.run(None, {"x": _x()})[0])
    preallocated = ort.OrtValue.ortvalue_from_shape_and_type([3, 4], np.float32)
    binding.bind_ortvalue_output("y", preallocated)
    session.run_with_iobinding(binding)
    np.testing.assert_array_equal(preallocated.numpy(), y)


def test_run_options_terminate_refuses_to_run(mlp_model):
    options = ort.RunOptions()
    options.terminate = True
    with pytest.raises(ort.Fail, match="terminate"):
        ort.InferenceSession(mlp_model).run(None, {"x": _x()}, options)


def test_profiling_writes_a_chrome_trace(mlp_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    options = ort.SessionOptions()
    options.enable_profiling = True
    session = ort.InferenceSession(mlp_model, options, backends=["cpu", "ort"])
    session.run(None, {"x": _x()})
    events = json.loads((tmp_path / session.end_profiling()).read_text())
    assert events and events[0]["ph"] == "X" and "partition 0" in events[0]["name"]


def test_optimized_model_filepath_receives_the_placed_model(mlp_model, tmp_path):
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "placed.onnx")
    ort.InferenceSession(mlp_model, options)
    saved = onnx.load(str(tmp_path / "placed.onnx"))
    assert [n.op_type for n in saved.graph.node] == ["MatMul", "Add", "Relu", "MatMul", "Softmax"]


def test_set_providers_places_the_model_again(mlp_model):
    session = ort.InferenceSession(mlp_model, backends=["cpu"])
    session.set_providers(["CPUExecutionProvider"])
    assert session.backends == ["ort"]
    assert {p.backend for p in session.placement.partitions} == {"ort"}
