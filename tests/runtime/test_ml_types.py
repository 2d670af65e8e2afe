"""Map types beside onnx_ir: loading, ORT's type strings, writing them back for backends."""

from __future__ import annotations

import onnx
import onnx_ir as ir
import pytest
from onnx import TensorProto as T
from onnx import helper

from xinrt.ml_types import (
    hide_map_types,
    holds_map,
    map_type_of,
    proto_type_string,
    record_map_types,
    restore_map_types,
    save_model,
    serialize_value,
)
from xinrt.model import load_model


def _map(key: int, value: int) -> onnx.TypeProto:
    return helper.make_map_type_proto(key, helper.make_tensor_type_proto(value, None))


def _zipmap_model() -> onnx.ModelProto:
    """DictVectorizer (map input) -> ZipMap (seq(map) output), as skl2onnx writes them."""
    seq_map = helper.make_sequence_type_proto(_map(T.INT64, T.FLOAT))
    graph = helper.make_graph(
        [
            helper.make_node(
                "DictVectorizer", ["x"], ["v"], domain="ai.onnx.ml", string_vocabulary=["a", "b"]
            ),
            helper.make_node(
                "ZipMap", ["v"], ["y"], domain="ai.onnx.ml", classlabels_int64s=[3, 4]
            ),
        ],
        "g",
        [onnx.ValueInfoProto(name="x", type=_map(T.STRING, T.FLOAT))],
        [onnx.ValueInfoProto(name="y", type=seq_map)],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    return helper.make_model(graph, opset_imports=opsets)


@pytest.mark.parametrize(
    ("type_proto", "text"),
    [
        (_map(T.STRING, T.FLOAT), "map(string,tensor(float))"),
        (helper.make_sequence_type_proto(_map(T.INT64, T.FLOAT)), "seq(map(int64,tensor(float)))"),
        (helper.make_tensor_type_proto(T.DOUBLE, None), "tensor(double)"),
        (onnx.TypeProto(), "unknown"),
    ],
)
def test_type_strings_are_the_ones_ort_prints(type_proto: onnx.TypeProto, text: str) -> None:
    assert proto_type_string(type_proto) == text


def test_holds_map_looks_inside_sequences_and_optionals() -> None:
    inner = helper.make_sequence_type_proto(_map(T.INT64, T.FLOAT))
    assert holds_map(helper.make_optional_type_proto(inner))
    assert not holds_map(
        helper.make_sequence_type_proto(helper.make_tensor_type_proto(T.FLOAT, []))
    )


def test_onnx_ir_loads_the_hidden_view_and_the_proto_gets_its_types_back() -> None:
    proto = _zipmap_model()
    original = proto.SerializeToString()
    hidden = hide_map_types(proto)
    assert [info.name for info, _ in hidden] == ["x", "y"]
    model = ir.from_proto(proto)
    restore_map_types(hidden)
    assert proto.SerializeToString() == original
    record_map_types(model, hidden)
    x, y = model.graph.inputs[0], model.graph.outputs[0]
    assert x.type is None and map_type_of(x) == proto.graph.input[0].type
    assert map_type_of(y) == proto.graph.output[0].type
    assert map_type_of(model.graph.node(0).outputs[0]) is None


def test_load_model_records_map_types_and_serialize_value_writes_them_back() -> None:
    loaded = load_model(_zipmap_model())
    graph = loaded.ir_model.graph
    assert serialize_value(graph.inputs[0]).type == _map(T.STRING, T.FLOAT)
    want = "seq(map(int64,tensor(float)))"  # shape inference adds a scalar shape inside
    assert proto_type_string(serialize_value(graph.outputs[0]).type) == want
    assert proto_type_string(loaded.proto.graph.output[0].type) == want  # ORT may get the proto
    assert serialize_value(graph.node(0).outputs[0]).type.HasField("tensor_type")


def test_save_model_keeps_map_inputs_and_outputs(tmp_path: object) -> None:
    loaded = load_model(_zipmap_model())
    path = f"{tmp_path}/saved.onnx"
    save_model(loaded.ir_model, path)
    saved = onnx.load(path)
    onnx.checker.check_model(saved)
    assert proto_type_string(saved.graph.input[0].type) == "map(string,tensor(float))"
    assert proto_type_string(saved.graph.output[0].type) == "seq(map(int64,tensor(float)))"
