"""Reading a model file without its weights: the same model, weights read on use, bad files
still get their clear errors."""

from __future__ import annotations

import os
import random

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import xinrt
from xinrt.errors import InvalidModelError, XinrtError
from xinrt.model import load_model
from xinrt.skim import LARGE_TENSOR_BYTES, skim_model_file

F = onnx.TensorProto.FLOAT


def _mlp(rng: np.random.Generator, hidden: int = 48) -> onnx.ModelProto:
    """x[2, 32] -> MatMul(w1: 6 KB, skimmed) -> Add(b1: kept) -> Relu -> MatMul(Cast(w2: fp16,
    5 KB, skimmed))."""
    inits = {
        "w1": rng.standard_normal((32, hidden)).astype(np.float32),
        "b1": rng.standard_normal(hidden).astype(np.float32),
        "w2": rng.standard_normal((hidden, 56)).astype(np.float16),
    }
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m"], name="mm1"),
        helper.make_node("Add", ["m", "b1"], ["a"], name="add"),
        helper.make_node("Relu", ["a"], ["r"], name="relu"),
        helper.make_node("Cast", ["w2"], ["w2f"], name="cast", to=F),
        helper.make_node("MatMul", ["r", "w2f"], ["y"], name="mm2"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", F, [2, 32])],
        [helper.make_tensor_value_info("y", F, [2, 56])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


@pytest.fixture
def mlp_file(tmp_path):
    path = tmp_path / "mlp.onnx"
    onnx.save(_mlp(np.random.default_rng(7)), str(path))
    return path


def test_skim_leaves_only_the_large_weights_in_the_file(mlp_file):
    skimmed = skim_model_file(mlp_file)
    assert skimmed is not None
    assert sorted(skimmed.weights) == ["w1", "w2"]  # b1 is 192 bytes: kept
    full = onnx.load(str(mlp_file))
    data = mlp_file.read_bytes()
    for tensor in full.graph.initializer:
        if tensor.name in skimmed.weights:
            offset, length = skimmed.weights[tensor.name]
            assert length > LARGE_TENSOR_BYTES
            assert data[offset : offset + length] == tensor.raw_data
    assert skimmed.proto.ByteSize() < 1024
    assert [n.name for n in skimmed.proto.graph.node] == [n.name for n in full.graph.node]


def test_loaded_from_a_path_the_weights_equal_the_files(mlp_file):
    from_path = load_model(mlp_file).ir_model.graph.initializers
    from_bytes = load_model(mlp_file.read_bytes()).ir_model.graph.initializers
    assert sorted(from_path) == sorted(from_bytes)
    for name, value in from_path.items():
        expected = from_bytes[name].const_value.numpy()
        actual = value.const_value.numpy()
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("backends", [["cpu"], ["ort"], None])
def test_session_from_a_path_matches_one_from_bytes(mlp_file, backends):
    x = np.random.default_rng(3).standard_normal((2, 32)).astype(np.float32)
    by_path = xinrt.InferenceSession(str(mlp_file), backends=backends).run(None, {"x": x})[0]
    by_bytes = xinrt.InferenceSession(mlp_file.read_bytes(), backends=backends)
    np.testing.assert_array_equal(by_path, by_bytes.run(None, {"x": x})[0])


def test_cpu_session_keeps_working_after_the_file_is_replaced(mlp_file):
    x = np.random.default_rng(4).standard_normal((2, 32)).astype(np.float32)
    session = xinrt.InferenceSession(str(mlp_file), backends=["cpu"])
    before = session.run(None, {"x": x})[0]
    onnx.save(_mlp(np.random.default_rng(8)), str(mlp_file))  # other weights, same path
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], before)


def test_a_weight_read_after_the_file_was_written_over_is_a_clear_error(mlp_file):
    loaded = load_model(mlp_file)
    onnx.save(_mlp(np.random.default_rng(9)), str(mlp_file))  # the same file, truncated
    os.utime(mlp_file, ns=(1, 1))  # a different mtime even on a coarse clock
    with pytest.raises(InvalidModelError, match="written over.*'w1'"):
        loaded.ir_model.graph.initializers["w1"].const_value.numpy()


def test_weights_stay_readable_when_the_file_is_deleted_or_replaced(mlp_file, tmp_path):
    x = np.random.default_rng(5).standard_normal((2, 32)).astype(np.float32)
    expected = xinrt.InferenceSession(mlp_file.read_bytes(), backends=["cpu"]).run(None, {"x": x})
    session = xinrt.InferenceSession(str(mlp_file), backends=["ort"])  # weights left in the file
    replacement = tmp_path / "new.onnx"
    onnx.save(_mlp(np.random.default_rng(6)), str(replacement))
    os.replace(replacement, mlp_file)  # an atomic save: a new file at the old path
    session.set_providers(["CPUExecutionProvider"])  # places again: reads the IR's weights
    np.testing.assert_allclose(session.run(None, {"x": x})[0], expected[0], rtol=1e-5, atol=1e-5)
    mlp_file.unlink()
    session.set_providers(["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"x": x})[0], expected[0], rtol=1e-5, atol=1e-5)


def test_dims_that_lie_about_skimmed_data_are_refused(tmp_path):
    model = _mlp(np.random.default_rng(1))
    model.graph.initializer[0].dims[:] = [32, 47]  # the raw data holds 32 x 48 floats
    path = tmp_path / "lying.onnx"
    path.write_bytes(model.SerializeToString())
    refusal = "'w1' of shape \\[32, 47\\] holds 6144 bytes, expected 6016"
    with pytest.raises(InvalidModelError, match=refusal):
        load_model(path)


def test_duplicate_initializer_names_fall_back_to_the_whole_read(tmp_path):
    model = _mlp(np.random.default_rng(1))
    model.graph.initializer.append(model.graph.initializer[0])
    path = tmp_path / "twice.onnx"
    path.write_bytes(model.SerializeToString())
    assert skim_model_file(path) is None
    with pytest.raises(InvalidModelError):
        load_model(path)


def test_truncated_or_corrupted_files_get_xinrt_errors(tmp_path, mlp_file):
    """Every cut and byte flip of a skimmable file loads or raises an XinrtError."""
    data = mlp_file.read_bytes()
    rng = random.Random(11)
    path = tmp_path / "bad.onnx"
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(120):
        mutated = bytearray(data)
        if case % 2:
            del mutated[rng.randrange(1, len(data)) :]
        else:
            for _ in range(rng.randint(1, 4)):
                mutated[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(mutated))
        try:
            load_model(path)
            outcomes["loaded"] += 1
        except XinrtError:
            outcomes["refused"] += 1
    assert outcomes["refused"] >= 60  # every cut at least: a model never survives truncation
