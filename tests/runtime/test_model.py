"""Loading and validation: every bad model gets a clear XinrtError subclass naming it."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from tests.helpers import make_model, tensor
from xinrt.errors import ExternalDataError, InvalidModelError, ModelNotFoundError, XinrtError
from xinrt.model import load_model


def test_loads_path_bytes_and_modelproto_alike(tmp_path, mlp_model):
    path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model, str(path))
    for source in (str(path), path, path.read_bytes(), mlp_model):
        loaded = load_model(source)
        assert [n.op_type for n in loaded.ir_model.graph] == [
            "MatMul",
            "Add",
            "Relu",
            "MatMul",
            "Softmax",
        ]


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(ModelNotFoundError, match="nope.onnx"):
        load_model(tmp_path / "nope.onnx")


def test_bytes_that_are_not_onnx():
    with pytest.raises(InvalidModelError, match="not .*ONNX"):
        load_model(b"\x00\x01 this is certainly not a protobuf \xff\xfe")


def test_truncated_protobuf(mlp_model):
    data = mlp_model.SerializeToString()
    with pytest.raises(InvalidModelError):
        load_model(data[: len(data) // 2])


def test_model_failing_the_checker_names_the_problem():
    node = helper.make_node("Relu", ["x"], ["y"])
    model = make_model([node], [tensor("x", [2])], [tensor("y", [2])])
    model.graph.node[0].input[0] = "undefined_value"
    with pytest.raises(InvalidModelError, match="checker"):
        load_model(model)


def _model_with_large_weight(weight: onnx.TensorProto) -> onnx.ModelProto:
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    return make_model([node], [tensor("x", [1, 64])], [tensor("y", [1, 64])], initializers=[weight])


def test_large_initializers_skip_the_checker_but_not_the_size_check():
    """Large weights reach the checker and shape inference as typed inputs (no copies), so
    load_model checks their byte count itself."""
    w = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    good = numpy_helper.from_array(w, "w")
    loaded = load_model(_model_with_large_weight(good))
    assert np.array_equal(loaded.ir_model.graph.initializers["w"].const_value.numpy(), w)
    assert [d for d in loaded.ir_model.graph.outputs[0].shape] == [1, 64]
    short = numpy_helper.from_array(w, "w")
    short.raw_data = short.raw_data[:-4]
    with pytest.raises(InvalidModelError, match="'w' of shape \\[64, 64\\] holds 16380 bytes"):
        load_model(_model_with_large_weight(short))
    typed = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[64, 64])
    typed.float_data.extend(w.ravel()[:2000].tolist())  # over 4 KB, so not in the checker's view
    with pytest.raises(InvalidModelError, match="holds 2000 values, expected 4096"):
        load_model(_model_with_large_weight(typed))


def test_too_new_opset():
    node = helper.make_node("Relu", ["x"], ["y"])
    model = make_model([node], [tensor("x", [2])], [tensor("y", [2])], opset=999)
    with pytest.raises(InvalidModelError, match="opset 999"):
        load_model(model)


def test_wrong_source_type():
    with pytest.raises(InvalidModelError, match="int"):
        load_model(42)  # type: ignore[arg-type]


def _external_model(tmp_path, location: str) -> str:
    weight = numpy_helper.from_array(np.arange(1024, dtype=np.float32), "w")
    model = make_model(
        [helper.make_node("Add", ["x", "w"], ["y"])],
        [tensor("x", [1024])],
        [tensor("y", [1024])],
        [weight],
    )
    path = tmp_path / "model.onnx"
    onnx.save(
        model, str(path), save_as_external_data=True, location="weights.bin", size_threshold=0
    )
    if location != "weights.bin":
        saved = onnx.load(str(path), load_external_data=False)
        for entry in saved.graph.initializer[0].external_data:
            if entry.key == "location":
                entry.value = location
        onnx.save(saved, str(path))
    return str(path)


def test_external_data_next_to_the_model_loads(tmp_path):
    loaded = load_model(_external_model(tmp_path, "weights.bin"))
    weight = loaded.ir_model.graph.initializers["w"].const_value.numpy()
    np.testing.assert_array_equal(weight, np.arange(1024, dtype=np.float32))


@pytest.mark.parametrize("location", ["../../etc/passwd", "/etc/passwd", "sub/../../x.bin"])
def test_external_data_escaping_the_model_dir_is_refused(tmp_path, location):
    with pytest.raises(ExternalDataError, match="escapes"):
        load_model(_external_model(tmp_path, location))


def test_missing_external_data_file(tmp_path):
    with pytest.raises(ExternalDataError, match="not found"):
        load_model(_external_model(tmp_path, "gone.bin"))


def test_external_data_from_bytes_needs_a_path(tmp_path):
    path = _external_model(tmp_path, "weights.bin")
    with open(path, "rb") as handle:
        data = handle.read()
    with pytest.raises(ExternalDataError, match="external data"):
        load_model(data)


def test_every_load_error_is_a_xinrt_error():
    assert issubclass(ExternalDataError, XinrtError)
    assert issubclass(ModelNotFoundError, FileNotFoundError)


def test_unnamed_nodes_get_unique_names():
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Relu", ["a"], ["y"])]
    loaded = load_model(make_model(nodes, [tensor("x", [2])], [tensor("y", [2])]))
    names = [n.name for n in loaded.ir_model.graph]
    assert len(set(names)) == 2 and all(names)


def _set_external_field(path: str, key: str, value: str) -> None:
    saved = onnx.load(path, load_external_data=False)
    entries = saved.graph.initializer[0].external_data
    for entry in entries:
        if entry.key == key:
            entry.value = value
            break
    else:
        entries.add(key=key, value=value)
    onnx.save(saved, path)


@pytest.mark.parametrize("key", ["offset", "length"])
def test_negative_external_data_offset_or_length_is_an_external_data_error(tmp_path, key):
    path = _external_model(tmp_path, "weights.bin")
    _set_external_field(path, key, "-8")
    with pytest.raises(ExternalDataError, match=f"'w'.*external data.*{key}.*-8"):
        load_model(path)


def test_unreadable_external_data_offset_is_an_external_data_error(tmp_path):
    path = _external_model(tmp_path, "weights.bin")
    _set_external_field(path, "offset", "eight")
    with pytest.raises(ExternalDataError, match="invalid external data"):
        load_model(path)


def test_a_folder_is_reported_as_a_folder(tmp_path):
    with pytest.raises(InvalidModelError, match="is a folder, not a model file") as caught:
        load_model(tmp_path)
    assert not isinstance(caught.value, ModelNotFoundError)


def test_checker_message_is_whole_not_cut_at_the_first_line_break():
    """The checker prints the offending node across lines mid-sentence; the message keeps the
    sentence's end and the context naming the node."""
    then = helper.make_graph(
        [helper.make_node("Relu", ["t"], ["o"]), helper.make_node("Neg", ["x"], ["t"])],
        "then",
        [],
        [tensor("o", [2])],
    )
    other = helper.make_graph(
        [helper.make_node("Abs", ["x"], ["o2"])], "else", [], [tensor("o2", [2])]
    )
    node = helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other, name="cond")
    model = make_model(
        [node], [tensor("x", [2]), tensor("c", [], onnx.TensorProto.BOOL)], [tensor("y", [2])]
    )
    with pytest.raises(InvalidModelError) as caught:
        load_model(model)
    message = str(caught.value)
    assert "\n" not in message
    assert "is not output of any previous nodes." in message
    assert "Bad node spec for node. Name: cond OpType: If" in message


def _sparse_model(indices: list[int] | list[list[int]]) -> onnx.ModelProto:
    values = numpy_helper.from_array(np.array([1.5, -2.0, 3.25], np.float32), "w")
    index_array = np.array(indices, np.int64)
    sparse = helper.make_sparse_tensor(values, numpy_helper.from_array(index_array, "i"), [3, 4])
    model = make_model(
        [helper.make_node("Add", ["x", "w"], ["y"])], [tensor("x", [3, 4])], [tensor("y", [3, 4])]
    )
    model.graph.sparse_initializer.append(sparse)
    return model


@pytest.mark.parametrize("indices", [[1, 6, 11], [[0, 1], [1, 2], [2, 3]]])
def test_sparse_initializer_runs_as_in_ort(indices):
    """Densified at load, as ORT does (it was a raw KeyError at run time)."""
    import onnxruntime as ort

    from xinrt import InferenceSession

    model = _sparse_model(indices)
    x = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    expected = want.run(None, {"x": x})[0]
    np.testing.assert_allclose(InferenceSession(model).run(None, {"x": x})[0], expected)
    dense = np.zeros(12, np.float32)
    dense[[1, 6, 11]] = [1.5, -2.0, 3.25]
    np.testing.assert_allclose(expected, x + dense.reshape(3, 4))


def test_sparse_constant_node_runs():
    values = numpy_helper.from_array(np.array([4.0, 5.0], np.float32), "")
    sparse = helper.make_sparse_tensor(values, numpy_helper.from_array(np.array([0, 3]), ""), [4])
    nodes = [
        helper.make_node("Constant", [], ["w"], sparse_value=sparse),
        helper.make_node("Add", ["x", "w"], ["y"]),
    ]
    model = make_model(nodes, [tensor("x", [4])], [tensor("y", [4])])
    from xinrt import InferenceSession

    x = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(InferenceSession(model).run(None, {"x": x})[0], [4, 1, 2, 8])


@pytest.mark.parametrize("indices", [[1, 6, 12], [1, -1, 2], [[0, 1], [3, 0], [2, 3]], [1, 2]])
def test_malformed_sparse_initializer_is_an_invalid_model_error(indices):
    with pytest.raises(InvalidModelError, match="sparse initializer 'w'"):
        load_model(_sparse_model(indices))


def test_a_name_that_is_not_utf8_is_an_invalid_model_error():
    """The checker quotes the name in its message; decoding that must not escape raw."""
    node = helper.make_node("Relu", ["x"], ["y"])
    data = make_model([node], [tensor("x", [2])], [tensor("y", [2])]).SerializeToString()
    corrupt = data.replace(b"Relu", b"R\xb9lu", 1)
    with pytest.raises(InvalidModelError):
        load_model(corrupt)
