"""xinrt's `onnxruntime.capi.onnxruntime_pybind11_state`: the names ORT's tests and programs
import all import; each works, or raises NotImplemented (UnsupportedError) when used."""

from __future__ import annotations

import numpy as np
import onnxruntime.capi.onnxruntime_pybind11_state as real_state
import pytest

import xinrt
from xinrt.capi import _pybind_state
from xinrt.capi import onnxruntime_pybind11_state as state

# What ORT's own Python tests and common programs import from the C module (ORT 1.32 exports
# these and more; the rest of its names are in the module's __all__ as well).
_IMPORTED_NAMES = [
    "OrtValueVector", "SessionIOBinding", "OrtDevice", "OrtMemoryInfo", "OrtAllocatorType",
    "OrtMemType", "OrtArenaCfg", "OrtSparseFormat", "OrtValue", "SparseTensor", "Fail",
    "InvalidArgument", "NoSuchFile", "NoModel", "EngineError", "RuntimeException",
    "InvalidProtobuf", "ModelLoaded", "NotImplemented", "InvalidGraph", "EPFail",
    "SessionOptions", "RunOptions", "GraphOptimizationLevel", "ExecutionMode", "ExecutionOrder",
    "ModelMetadata", "NodeArg", "InferenceSession", "get_available_providers",
    "get_all_providers", "get_device", "set_default_logger_severity", "set_seed",
    "create_and_register_allocator", "get_all_operator_schema", "kSameAsRequested",
]  # fmt: skip


def test_the_names_programs_import_are_there_in_both_module_names():
    for name in [*_IMPORTED_NAMES, *state.__all__]:
        assert hasattr(state, name) and hasattr(_pybind_state, name), name
    missing = [n for n in _IMPORTED_NAMES if not hasattr(real_state, n)]
    assert missing == [], f"not ORT names: {missing}"


def test_exception_classes_are_xinrt_errors():
    for name in ("Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError",
                 "RuntimeException", "InvalidProtobuf", "ModelLoaded", "NotImplemented",
                 "InvalidGraph", "EPFail"):  # fmt: skip
        assert issubclass(getattr(state, name), xinrt.XinrtError), name
    with pytest.raises(state.NoSuchFile):
        xinrt.InferenceSession("no/such/model.onnx")


def test_ort_value_vector_holds_ort_values():
    vector = state.OrtValueVector()
    vector.reserve(2)
    vector.push_back(state.OrtValue.ortvalue_from_numpy(np.arange(3, dtype=np.float32)))
    vector.push_back(state.OrtValue(np.array([True, False])))
    assert len(vector) == 2
    assert vector.numpy_at(0).tolist() == [0.0, 1.0, 2.0]
    assert vector.bool_tensor_indices() == [1]
    with pytest.raises(xinrt.InvalidArgumentError, match="holds OrtValues"):
        vector.push_back("not a tensor")


def test_devices_memory_info_and_io_binding(mlp_model):
    device = state.OrtDevice(state.OrtDevice.cpu(), state.OrtDevice.default_memory(), 0, 0)
    assert device.device_type() == state.OrtDevice.cpu() and device.device_id() == 0
    assert device == state.OrtDevice(0, 0, 0, 0)
    info = state.OrtMemoryInfo("Cpu", state.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0,
                               state.OrtMemType.DEFAULT)  # fmt: skip
    assert info.name == "Cpu" and info.mem_type == 0
    session = state.InferenceSession(mlp_model)
    binding = state.SessionIOBinding(session)
    x = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    binding.bind_cpu_input("x", x)
    binding.bind_output("y")
    session.run_with_iobinding(binding)
    np.testing.assert_allclose(binding.copy_outputs_to_cpu()[0], session.run(None, {"x": x})[0])


@pytest.mark.parametrize("name", ["SparseTensor", "quantize_matmul_4bits", "LoraAdapter"])
def test_unsupported_names_import_and_refuse_at_use(name):
    stand_in = getattr(state, name)
    with pytest.raises(state.NotImplemented, match=f"{name} is not implemented by xinrt"):
        stand_in(1, 2)
    with pytest.raises(state.NotImplemented, match=f"{name}.anything"):
        stand_in.anything  # noqa: B018


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError):
        state.NoSuchThing  # noqa: B018
