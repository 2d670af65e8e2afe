"""The rest of ORT's Python API (issue 19): each behaviour side by side with the real
onnxruntime: same outputs, or an exception of the class ORT raises (ORT's own class, mapped by
`xinrt.capi.onnxruntime_pybind11_state`, or the builtin it raises)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import xinrt
from tests.helpers import make_model, tensor
from xinrt.capi import onnxruntime_pybind11_state as xstate

ort = pytest.importorskip("onnxruntime")

CPU = ["CPUExecutionProvider"]


def _add_model() -> onnx.ModelProto:
    weight = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
    nodes = [helper.make_node("Add", ["x", "W"], ["y"], name="add")]
    return make_model(nodes, [tensor("x", [2, 3])], [tensor("y", [2, 3])],
                      [numpy_helper.from_array(weight, "W")])  # fmt: skip


def _x() -> np.ndarray:
    return np.random.default_rng(11).standard_normal((2, 3)).astype(np.float32)


def _raised(call: Callable[[], Any]) -> BaseException | None:
    try:
        call()
    except Exception as exc:  # the class is what the tests compare
        return exc
    return None


def _same_class(ours: BaseException | None, theirs: BaseException | None) -> None:
    """Ours must be caught by what catches ORT's: its capi class (xinrt's of that name), or the
    builtin ORT raised."""
    assert theirs is not None and ours is not None, (ours, theirs)
    kind = type(theirs)
    if kind.__module__.endswith("onnxruntime_pybind11_state"):
        assert isinstance(ours, getattr(xstate, kind.__name__)), (ours, theirs)
    else:
        assert isinstance(ours, kind), (ours, theirs)


def _sessions(model: onnx.ModelProto, **xinrt_kwargs: Any) -> tuple[Any, Any]:
    data = model.SerializeToString()
    return xinrt.InferenceSession(data, **xinrt_kwargs), ort.InferenceSession(data, providers=CPU)


@pytest.mark.parametrize(
    "feeds, outputs",
    [
        ({"x": _x().astype(np.float64)}, None),  # wrong dtype: InvalidArgument
        ({"x": _x(), "z": _x()}, None),  # unknown input: InvalidArgument
        ({"x": np.ones((3, 3), np.float32)}, None),  # wrong dim: InvalidArgument
        ({"x": np.ones(3, np.float32)}, None),  # wrong rank: InvalidArgument
        ({"x": _x()}, ["nope"]),  # unknown output: InvalidArgument
        ({}, None),  # missing input: ValueError
    ],
)
def test_run_errors_are_of_ort_classes(feeds, outputs):
    ours, theirs = _sessions(_add_model())
    _same_class(
        _raised(lambda: ours.run(outputs, feeds)), _raised(lambda: theirs.run(outputs, feeds))
    )


def test_load_and_terminate_errors_are_of_ort_classes(tmp_path):
    missing = str(tmp_path / "missing.onnx")
    _same_class(_raised(lambda: xinrt.InferenceSession(missing)),
                _raised(lambda: ort.InferenceSession(missing, providers=CPU)))  # fmt: skip
    _same_class(_raised(lambda: xinrt.InferenceSession(b"garbage")),
                _raised(lambda: ort.InferenceSession(b"garbage", providers=CPU)))  # fmt: skip
    ours, theirs = _sessions(_add_model())
    stop_ours, stop_theirs = xinrt.RunOptions(), ort.RunOptions()
    stop_ours.terminate = stop_theirs.terminate = True
    _same_class(_raised(lambda: ours.run(None, {"x": _x()}, stop_ours)),
                _raised(lambda: theirs.run(None, {"x": _x()}, stop_theirs)))  # fmt: skip


def test_ortvalue_array_dlpack_and_onnx_type_match_ort():
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    ours, theirs = xinrt.OrtValue.ortvalue_from_numpy(data), ort.OrtValue.ortvalue_from_numpy(data)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert np.asarray(ours, dtype=np.float64).dtype == np.asarray(theirs, dtype=np.float64).dtype
    assert ours.__dlpack_device__() == theirs.__dlpack_device__() == (1, 0)
    np.testing.assert_array_equal(np.from_dlpack(ours), np.from_dlpack(theirs))
    assert np.from_dlpack(ours).ctypes.data == data.ctypes.data  # shared, not copied
    ints = np.arange(5, dtype=np.int64)
    np.testing.assert_array_equal(xinrt.OrtValue.from_dlpack(ints).numpy(),
                                  ort.OrtValue.from_dlpack(ints).numpy())  # fmt: skip
    assert ours.element_type() == theirs.element_type() == TensorProto.FLOAT
    raw = np.array([1, 2, 56], dtype=np.uint8)
    typed = [module.OrtValue.ortvalue_from_numpy_with_onnx_type(raw, TensorProto.FLOAT8E4M3FN)
             for module in (xinrt, ort)]  # fmt: skip
    assert typed[0].data_type() == typed[1].data_type() == "tensor(float8e4m3fn)"
    assert typed[0].element_type() == typed[1].element_type() == TensorProto.FLOAT8E4M3FN
    np.testing.assert_array_equal(typed[0].numpy(), typed[1].numpy())
    floats = np.ones(2, np.float32)
    _same_class(
        _raised(lambda: xinrt.OrtValue.ortvalue_from_numpy_with_onnx_type(floats, 17)),
        _raised(lambda: ort.OrtValue.ortvalue_from_numpy_with_onnx_type(floats, 17)),
    )
    _same_class(_raised(lambda: xinrt.OrtValue.ortvalue_from_numpy(floats, "cuda", 0)),
                _raised(lambda: ort.OrtValue.ortvalue_from_numpy(floats, "cuda", 0)))  # fmt: skip


def test_float8_ortvalue_feeds_a_session_as_ort():
    nodes = [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.FLOAT, name="cast")]
    model = make_model(nodes, [tensor("x", [4], TensorProto.FLOAT8E4M3FN)], [tensor("y", [4])],
                       opset=19)  # fmt: skip
    raw = np.random.default_rng(5).integers(0, 120, 4).astype(np.uint8)
    ours, theirs = _sessions(model)
    results = [
        session.run_with_ort_values(
            None, {"x": module.OrtValue.ortvalue_from_numpy_with_onnx_type(raw, 17)}
        )[0].numpy()
        for session, module in ((ours, xinrt), (theirs, ort))
    ]
    np.testing.assert_array_equal(results[0], results[1])


def test_devices_memory_infos_and_arena_configs_match_ort():
    for module in (xinrt, ort):
        device = module.OrtDevice.make("cpu", 0)
        assert (device.device_type(), device.device_id(), device.device_vendor_id(),
                device.device_mem_type()) == (0, 0, 0, 0)  # fmt: skip
        assert module.OrtDeviceVendorId.NVIDIA == 0x10DE
    infos = [m.OrtMemoryInfo("Cpu", m.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, m.OrtMemType.DEFAULT)
             for m in (xinrt, ort)]  # fmt: skip
    for field in ("name", "device_id", "mem_type", "device_mem_type", "device_vendor_id"):
        assert getattr(infos[0], field) == getattr(infos[1], field), field
    assert int(infos[0].allocator_type) == int(infos[1].allocator_type)
    fields = ("max_mem", "arena_extend_strategy", "initial_chunk_size_bytes",
              "max_dead_bytes_per_chunk", "initial_growth_chunk_size_bytes",
              "max_power_of_two_extend_bytes")  # fmt: skip
    for args in [(1 << 20, 1, 256, 128), ({"max_mem": 4096, "arena_extend_strategy": 1},)]:
        ours, theirs = xinrt.OrtArenaCfg(*args), ort.OrtArenaCfg(*args)
        assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]
    _same_class(_raised(lambda: xinrt.OrtArenaCfg({"nope": 1})),
                _raised(lambda: ort.OrtArenaCfg({"nope": 1})))  # fmt: skip


def test_module_functions_match_ort():
    assert xinrt.get_all_providers()[-1] == ort.get_all_providers()[-1] == "CPUExecutionProvider"
    ours = [name for name in xinrt.get_all_providers() if name in ort.get_all_providers()]
    assert ours == ort.get_all_providers()  # ORT's names, in ORT's order
    assert xinrt.get_build_info().startswith("ORT Build Info: ")
    assert ort.get_build_info().startswith("ORT Build Info: ")
    for module in (xinrt, ort):
        assert module.disable_telemetry_events() is None
        assert module.enable_telemetry_events() is None


def test_global_thread_pool_sizes_serve_sessions_without_their_own_threads():
    xinrt.set_global_thread_pool_sizes(2, 1)
    try:
        options = xinrt.SessionOptions()
        options.use_per_session_threads = False
        session = xinrt.InferenceSession(_add_model().SerializeToString(), options)
        used = session.get_session_options()
        assert (used.intra_op_num_threads, used.inter_op_num_threads) == (2, 1)
        own = xinrt.InferenceSession(_add_model().SerializeToString())
        assert own.get_session_options().intra_op_num_threads == 0  # per-session threads
    finally:
        xinrt.set_global_thread_pool_sizes(0, 0)
    with pytest.raises(RuntimeError):
        xinrt.set_global_thread_pool_sizes(-1, 0)


def test_add_initializer_replaces_weights_as_ort():
    model = _add_model().SerializeToString()
    replacement = np.random.default_rng(9).standard_normal((2, 3)).astype(np.float32)
    results = []
    for module, kwargs in ((xinrt, {}), (ort, {"providers": CPU})):
        value = module.OrtValue.ortvalue_from_numpy(replacement)
        options = module.SessionOptions()
        options.add_initializer("W", value)
        options.add_initializer("not_in_the_model", value)  # ignored, as ORT does
        results.append(module.InferenceSession(model, options, **kwargs).run(None, {"x": _x()}))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(results[0][0], _x() + replacement, rtol=1e-6)
    _same_class(
        _raised(lambda: xinrt.SessionOptions().add_initializer("W", replacement)),
        _raised(lambda: ort.SessionOptions().add_initializer("W", replacement)),
    )
    wrong = xinrt.SessionOptions()
    wrong.add_initializer("W", xinrt.OrtValue.ortvalue_from_numpy(np.ones((3, 3), np.float32)))
    with pytest.raises(xstate.InvalidArgument, match="shape"):  # ORT fails later, at run (Fail)
        xinrt.InferenceSession(model, wrong)


def test_add_external_initializers_is_refused_with_ort_classes():
    value = xinrt.OrtValue.ortvalue_from_numpy(np.ones((2, 3), np.float32))
    with pytest.raises(xstate.NotImplemented, match="add_initializer"):
        xinrt.SessionOptions().add_external_initializers(["W"], [value])
    assert issubclass(xstate.NotImplemented, xstate.Fail)


def test_optimized_model_saved_with_external_initializers(tmp_path):
    rng = np.random.default_rng(4)
    big = numpy_helper.from_array(rng.standard_normal((64, 64)).astype(np.float32), "W")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")]
    model = make_model(nodes, [tensor("x", [1, 64])], [tensor("y", [1, 64])], [big])
    x = rng.standard_normal((1, 64)).astype(np.float32)
    for module, kwargs, name in ((xinrt, {}, "ours"), (ort, {"providers": CPU}, "theirs")):
        options = module.SessionOptions()
        options.optimized_model_filepath = str(tmp_path / f"{name}.onnx")
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_file_name", f"{name}.bin"
        )
        options.add_session_config_entry(
            "session.optimized_model_external_initializers_min_size_in_bytes", "100"
        )
        module.InferenceSession(model.SerializeToString(), options, **kwargs)
        assert (tmp_path / f"{name}.bin").stat().st_size >= 64 * 64 * 4
        saved = onnx.load(str(tmp_path / f"{name}.onnx"), load_external_data=False)
        assert any(t.data_location == TensorProto.EXTERNAL for t in saved.graph.initializer)
    ours = xinrt.InferenceSession(str(tmp_path / "ours.onnx")).run(None, {"x": x})[0]
    theirs = ort.InferenceSession(str(tmp_path / "theirs.onnx"), providers=CPU).run(None, {"x": x})
    np.testing.assert_allclose(ours, theirs[0], rtol=1e-5, atol=1e-5)


def test_graph_assignment_info_as_ort():
    model = _add_model().SerializeToString()
    _same_class(_raised(lambda: xinrt.InferenceSession(model).get_provider_graph_assignment_info()),
                _raised(lambda: ort.InferenceSession(model, providers=CPU)
                        .get_provider_graph_assignment_info()))  # fmt: skip
    infos = []
    for module, kwargs in ((xinrt, {}), (ort, {"providers": CPU})):
        options = module.SessionOptions()
        options.add_session_config_entry("session.record_ep_graph_assignment_info", "1")
        session = module.InferenceSession(model, options, **kwargs)
        infos.append([(s.ep_name, [(n.name, n.op_type) for n in s.get_nodes()])
                      for s in session.get_provider_graph_assignment_info()])  # fmt: skip
    assert infos[0] == infos[1] == [("CPUExecutionProvider", [("add", "Add")])]


@pytest.mark.parametrize(
    "array",
    [
        np.array([b"ab", b"c"], dtype="S3"),  # bytes (numpy S; ORT reads each up to a zero)
        np.array([b"ab", b"c"]).astype("V2"),  # void: every byte kept, as ORT
        np.array(["ab", "c"]),
        np.array(["ab", "c"], dtype=object),
    ],
)
def test_string_inputs_of_bytes_and_void_as_ort(array):
    nodes = [helper.make_node("Identity", ["s"], ["t"], name="identity")]
    model = make_model(nodes, [tensor("s", [2], TensorProto.STRING)],
                       [tensor("t", [2], TensorProto.STRING)])  # fmt: skip
    ours, theirs = _sessions(model)
    assert ours.run(None, {"s": array})[0].tolist() == theirs.run(None, {"s": array})[0].tolist()


def _external_model(folder) -> tuple[str, np.ndarray]:
    weight = np.random.default_rng(2).standard_normal(256).astype(np.float32)
    nodes = [helper.make_node("Add", ["x", "W"], ["y"], name="add")]
    model = make_model(nodes, [tensor("x", [256])], [tensor("y", [256])],
                       [numpy_helper.from_array(weight, "W")])  # fmt: skip
    os.makedirs(folder / "data")
    onnx.save(model, str(folder / "direct.onnx"), save_as_external_data=True,
              location="data/weights.bin", size_threshold=0)  # fmt: skip
    os.symlink("data/weights.bin", folder / "link.bin")
    linked = onnx.load(str(folder / "direct.onnx"), load_external_data=False)
    for entry in linked.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = "link.bin"
    onnx.save(linked, str(folder / "linked.onnx"))
    return str(folder / "linked.onnx"), weight


def test_external_data_through_a_symlink_inside_the_folder_as_ort(tmp_path):
    path, weight = _external_model(tmp_path / "model")
    x = np.random.default_rng(6).standard_normal(256).astype(np.float32)
    ours = xinrt.InferenceSession(path).run(None, {"x": x})[0]
    theirs = ort.InferenceSession(path, providers=CPU).run(None, {"x": x})[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(ours, x + weight, rtol=1e-6)
    # the same link, now pointing out of the folder: refused by both, as Fail
    (tmp_path / "outside").mkdir()
    os.replace(tmp_path / "model/data/weights.bin", tmp_path / "outside/weights.bin")
    os.symlink("../../outside/weights.bin", tmp_path / "model/data/weights.bin")
    _same_class(_raised(lambda: xinrt.InferenceSession(path)),
                _raised(lambda: ort.InferenceSession(path, providers=CPU)))  # fmt: skip
