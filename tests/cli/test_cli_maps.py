"""The xinrt command on ONNX-ML map types: info shows ORT's type strings, run prints a ZipMap
output as a list, and a map input it cannot make up is a one-line error."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto as T
from onnx import helper

from xinrt.cli import main


def _map(key: int) -> onnx.TypeProto:
    return helper.make_map_type_proto(key, helper.make_tensor_type_proto(T.FLOAT, None))


def _save(tmp_path: Path, with_map_input: bool) -> str:
    nodes = [
        helper.make_node("ZipMap", ["p"], ["y"], domain="ai.onnx.ml", classlabels_int64s=[0, 1])
    ]
    if with_map_input:
        nodes.insert(
            0,
            helper.make_node(
                "DictVectorizer", ["x"], ["p"], domain="ai.onnx.ml", string_vocabulary=["a", "b"]
            ),
        )
        inputs = [onnx.ValueInfoProto(name="x", type=_map(T.STRING))]
    else:
        inputs = [helper.make_tensor_value_info("p", T.FLOAT, [3, 2])]
    seq_map = helper.make_sequence_type_proto(_map(T.INT64))
    graph = helper.make_graph(nodes, "g", inputs, [onnx.ValueInfoProto(name="y", type=seq_map)])
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    path = tmp_path / "maps.onnx"
    onnx.save(helper.make_model(graph, opset_imports=opsets), str(path))
    return str(path)


def test_info_shows_map_types_as_ort_prints_them(tmp_path, capsys):
    assert main(["info", _save(tmp_path, True)]) == 0
    text = capsys.readouterr().out
    assert "input x: map(string,tensor(float))" in text
    assert "output y: seq(map(int64,tensor(float)))" in text


def test_run_prints_a_zipmap_output_as_a_list(tmp_path, capsys):
    assert main(["run", _save(tmp_path, False), "--backends", "cpu"]) == 0
    assert "output y: seq(map(int64,tensor(float))), 3 items" in capsys.readouterr().out


def test_run_on_a_map_input_is_a_one_line_error(tmp_path, capsys):
    assert main(["run", _save(tmp_path, True), "--backends", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "input 'x' is a map(string,tensor(float))" in err and "Traceback" not in err
