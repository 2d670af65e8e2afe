"""ZipMap, DictVectorizer and CastMap on `cpu` (host steps between native plans) against ORT,
and wholly on cpu (default chain) with ORT absent."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir
import pytest
from onnx import TensorProto as T
from onnx import helper

from xinrt import InferenceSession
from xinrt.backends.cpu.backend import CpuBackend
from xinrt.errors import ExecutionError, InvalidModelError, PlacementError
from xinrt.graph_utils import name_of
from xinrt.ml_types import hide_map_types, record_map_types
from xinrt.model import name_unnamed_nodes

ort = pytest.importorskip("onnxruntime")


def _map(key: int, value: int) -> onnx.TypeProto:
    return helper.make_map_type_proto(key, helper.make_tensor_type_proto(value, None))


def _info(name: str, type_proto: onnx.TypeProto) -> onnx.ValueInfoProto:
    return onnx.ValueInfoProto(name=name, type=type_proto)


def _model(
    nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto], outputs: list[Any]
) -> bytes:
    graph = helper.make_graph(nodes, "host_ops", inputs, outputs)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return model.SerializeToString()


def _zipmap_model(labels: dict[str, Any], rank_known: bool = True) -> bytes:
    """x -> Relu (native) -> ZipMap: the host step after a native plan."""
    key = T.INT64 if "classlabels_int64s" in labels else T.STRING
    return _model(
        [
            helper.make_node("Relu", ["x"], ["r"]),
            helper.make_node("ZipMap", ["r"], ["y"], domain="ai.onnx.ml", **labels),
        ],
        [helper.make_tensor_value_info("x", T.FLOAT, [None, 3] if rank_known else None)],
        [_info("y", helper.make_sequence_type_proto(_map(key, T.FLOAT)))],
    )


def _both(model: bytes, feeds: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    session = InferenceSession(model, backends=["cpu"])
    assert {n.backend for n in session.placement.nodes} == {"cpu"}
    want = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, feeds)
    return session.run(None, feeds), want


@pytest.mark.parametrize(
    "labels", [{"classlabels_int64s": [0, 5, -2]}, {"classlabels_strings": ["a", "b", "c"]}]
)
def test_zipmap_gives_orts_list_of_dicts_exactly(labels: dict[str, Any]) -> None:
    x = np.random.default_rng(3).standard_normal((7, 3)).astype(np.float32)
    got, want = _both(_zipmap_model(labels), {"x": x})
    assert got == want  # same keys, order, key types and the float32 values as Python floats
    assert all(type(k) is type(w) for g, e in zip(got[0], want[0]) for k, w in zip(g, e))


@pytest.mark.parametrize("shape", [(3,), (0, 3), (1, 3)])
def test_zipmap_of_one_row_and_of_no_rows_matches_ort(shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    got, want = _both(_zipmap_model({"classlabels_int64s": [1, 2, 3]}, False), {"x": x})
    assert got == want


@pytest.mark.parametrize("shape", [(2, 4), (1, 1, 3)])
def test_zipmap_of_a_wrong_shape_is_an_execution_error_naming_the_node(
    shape: tuple[int, ...],
) -> None:
    session = InferenceSession(
        _zipmap_model({"classlabels_int64s": [1, 2, 3]}, False), backends=["cpu"]
    )
    with pytest.raises(ExecutionError, match="ZipMap"):
        session.run(None, {"x": np.ones(shape, np.float32)})


@pytest.mark.parametrize(
    ("key", "vocabulary", "keys"),
    [
        (T.STRING, {"string_vocabulary": ["b", "a", "d"]}, ["a", "b", "c", "d"]),
        (T.INT64, {"int64_vocabulary": [7, 2, 40]}, [2, 3, 7, 40]),
    ],
)
def test_dict_vectorizer_then_a_native_node_matches_ort(
    key: int, vocabulary: dict[str, Any], keys: list[Any]
) -> None:
    model = _model(
        [
            helper.make_node("DictVectorizer", ["x"], ["v"], domain="ai.onnx.ml", **vocabulary),
            helper.make_node("Mul", ["v", "v"], ["y"]),
        ],
        [_info("x", _map(key, T.FLOAT))],
        [helper.make_tensor_value_info("y", T.FLOAT, None)],
    )
    rng = np.random.default_rng(5)
    for _ in range(3):
        chosen = [k for k in keys if rng.random() < 0.7] or keys[:1]
        feed = {k: float(v) for k, v in zip(chosen, rng.standard_normal(len(chosen)))}
        got, want = _both(model, {"x": feed})
        assert got[0].dtype == want[0].dtype and got[0].shape == want[0].shape == (1, 3)
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("cast_to", ["TO_FLOAT", "TO_INT64", "TO_STRING"])
@pytest.mark.parametrize("form", ["DENSE", "SPARSE"])
def test_castmap_matches_ort_formatting_padding_and_truncation(cast_to: str, form: str) -> None:
    out = {"TO_FLOAT": T.FLOAT, "TO_INT64": T.INT64, "TO_STRING": T.STRING}[cast_to]
    model = _model(
        [
            helper.make_node(
                "CastMap", ["x"], ["y"], domain="ai.onnx.ml", cast_to=cast_to, map_form=form,
                max_map=6,
            )
        ],
        [_info("x", _map(T.INT64, T.FLOAT))],
        [helper.make_tensor_value_info("y", out, None)],
    )  # fmt: skip
    rng = np.random.default_rng(6)
    feeds = [
        {int(k): float(v) * 10 for k, v in zip(rng.permutation(9)[:5], rng.standard_normal(5))},
        {0: float("nan"), 2: float("inf"), 3: -1.75, 5: 1e10, 8: 0.1},  # 8 >= max_map: ignored
    ]
    for feed in feeds:
        got, want = _both(model, {"x": feed})
        assert got[0].dtype == want[0].dtype and got[0].shape == want[0].shape
        if cast_to == "TO_FLOAT":
            np.testing.assert_array_equal(got[0], want[0])
        else:
            assert got[0].tolist() == want[0].tolist()


def test_castmap_on_a_string_map_is_declined_with_the_reason() -> None:
    model = _model(
        [helper.make_node("CastMap", ["x"], ["y"], domain="ai.onnx.ml")],
        [_info("x", _map(T.INT64, T.STRING))],
        [helper.make_tensor_value_info("y", T.FLOAT, None)],
    )
    with pytest.raises(PlacementError, match=r"map\(int64,tensor\(string\)\).*map\(int64,"):
        InferenceSession(model, backends=["cpu"])


def _sequence_length_of_zipmap() -> bytes:
    return _model(
        [
            helper.make_node("ZipMap", ["x"], ["z"], domain="ai.onnx.ml", classlabels_int64s=[1]),
            helper.make_node("SequenceLength", ["z"], ["n"]),
        ],
        [helper.make_tensor_value_info("x", T.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("n", T.INT64, [])],
    )


def test_a_standard_op_on_a_sequence_of_maps_is_refused_at_load_as_by_ort() -> None:
    with pytest.raises(InvalidModelError, match=r"seq\(map\(int64, float\)\) of 'z'"):
        InferenceSession(_sequence_length_of_zipmap(), backends=["cpu"])


def test_cpu_declines_a_native_op_on_a_map_value_rather_than_running_it() -> None:
    """The load check above keeps such nodes out; the backend would still decline them."""
    proto = onnx.shape_inference.infer_shapes(onnx.load_from_string(_sequence_length_of_zipmap()))
    name_unnamed_nodes(proto.graph)
    hidden = hide_map_types(proto)
    model = ir.from_proto(proto)
    record_map_types(model, hidden)
    answers = CpuBackend().capability(model.graph)
    zipmap, length = (answers[name_of(n)] for n in model.graph)
    assert zipmap.claimed
    assert not length.claimed and "only tensors run natively" in length.reason


WITHOUT_ORT = r"""
import numpy as np, onnx, xinrt
from onnx import TensorProto as T, helper, numpy_helper
assert "ort" not in xinrt.available_backends()
m = lambda k, v: helper.make_map_type_proto(k, helper.make_tensor_type_proto(v, None))
scale = np.array([[0.5, -2.0, 3.0]], np.float32)
graph = helper.make_graph(
    [helper.make_node("DictVectorizer", ["x"], ["v"], domain="ai.onnx.ml",
                      string_vocabulary=["a", "b", "c"]),
     helper.make_node("Mul", ["v", "scale"], ["p"]),
     helper.make_node("ZipMap", ["p"], ["y"], domain="ai.onnx.ml", classlabels_int64s=[1, 2, 3])],
    "g", [onnx.ValueInfoProto(name="x", type=m(T.STRING, T.FLOAT))],
    [onnx.ValueInfoProto(name="y", type=helper.make_sequence_type_proto(m(T.INT64, T.FLOAT)))],
    initializer=[numpy_helper.from_array(scale, "scale")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("ai.onnx.ml", 3)])
session = xinrt.InferenceSession(model)
assert {n.backend for n in session.placement.nodes} == {"cpu"}
assert session.get_outputs()[0].type == "seq(map(int64,tensor(float)))"
feed = {"a": 1.5, "c": -0.25, "z": 9.0}
want = [{1: 0.75, 2: -0.0, 3: -0.75}]
got = session.run(None, {"x": feed})[0]
assert got == want and all(type(k) is int for k in got[0]), got
print("ok")
"""


def test_map_models_run_on_cpu_with_onnxruntime_absent(tmp_path: Any) -> None:
    blocker = tmp_path / "onnxruntime"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('onnxruntime hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "XINRT_CACHE_DIR": str(tmp_path / "c")}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_ORT], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-2000:]


def test_a_host_op_inside_a_subgraph_makes_cpu_decline_the_control_flow_node() -> None:
    def branch(with_zipmap: bool) -> onnx.GraphProto:
        nodes = [helper.make_node("Relu", ["x"], ["r"])]
        if with_zipmap:
            zipmap = helper.make_node(
                "ZipMap", ["r"], ["z"], domain="ai.onnx.ml", classlabels_int64s=[0, 1]
            )
            nodes.append(zipmap)
        return helper.make_graph(
            nodes, "b", [], [helper.make_tensor_value_info("r", T.FLOAT, [1, 2])]
        )

    model = _model(
        [helper.make_node("If", ["c"], ["y"], then_branch=branch(True), else_branch=branch(False))],
        [
            helper.make_tensor_value_info("c", T.BOOL, []),
            helper.make_tensor_value_info("x", T.FLOAT, [1, 2]),
        ],
        [helper.make_tensor_value_info("y", T.FLOAT, [1, 2])],
    )
    with pytest.raises(PlacementError, match="then_branch holds ZipMap, which runs on the host"):
        InferenceSession(model, backends=["cpu"])
