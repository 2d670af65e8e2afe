"""The ort backend: capability, names, plugin library errors, rules; one session per partition."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from tests.helpers import make_model, tensor
from xinrt import BackendNotFoundError, InferenceSession
from xinrt.backend import get_backend
from xinrt.cache import cache_dir
from xinrt.model import load_model


def _graph(model):
    return load_model(model).ir_model.graph


def test_model_onnxruntime_cannot_load_falls_back_to_the_probe_with_reasons():
    # ORT has no int64 Det kernel (the op's schema allows only floats, so ORT rejects the node).
    nodes = [helper.make_node("Det", ["x"], ["y"], name="det_int")]
    model = make_model(nodes, [tensor("x", [2, 2], TensorProto.INT64)], [tensor("y", [])])
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.INT64
    backend = get_backend("ort")
    import onnx_ir as ir

    graph = ir.from_proto(model).graph  # the checker would refuse it; capability must still answer
    answer = backend.capability(graph)["det_int"]
    assert not answer.claimed and "ORT CPUExecutionProvider" in answer.reason
    assert backend.last_capability.method == "one-node probe"
    assert "Det" in backend.last_capability.fallback_reason  # why the whole model failed


def test_capability_claims_a_loadable_model_and_caches_orts_answer_on_disk(
    det_model, tmp_path, monkeypatch
):
    monkeypatch.setenv("XINRT_CACHE_DIR", str(tmp_path))  # cold: other tests cached this model
    backend = get_backend("ort")
    graph = _graph(det_model)
    answers = backend.capability(graph)
    assert all(a.claimed for a in answers.values())
    assert backend.last_capability.method == "session created"
    files = list((cache_dir() / "ort-assignment").glob("*.json"))
    entries = [json.loads(f.read_text()) for f in files]
    mine = [e for e in entries if e["assignment"].keys() == answers.keys()]
    assert mine and mine[0]["key"]["provider"] == "CPUExecutionProvider"
    assert mine[0]["key"]["onnxruntime"] == ort.__version__
    backend.capability(graph)
    assert backend.last_capability.method == "cache (session created)"


def test_probe_signature_ignores_node_and_value_names():
    from xinrt.backends.ort.probe import probe_model

    def key_for(name, x="x"):
        model = make_model(
            [helper.make_node("Relu", [x], ["y"], name=name)],
            [tensor(x, [2])],
            [tensor("y", [2])],
        )
        graph = _graph(model)
        built = probe_model(list(graph)[0], graph, 10)
        assert not isinstance(built, str)
        return built.key

    assert key_for("first") == key_for("second") == key_for("third", x="other")


def test_whole_graph_on_ort_uses_the_original_model(mlp_model):
    session = InferenceSession(mlp_model, backends=["ort"])
    assert len(session.placement.partitions) == 1
    x = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    want = ort.InferenceSession(mlp_model.SerializeToString()).run(None, {"x": x})[0]
    np.testing.assert_allclose(session.run(None, {"x": x})[0], want, rtol=1e-6, atol=1e-7)


def test_unknown_execution_provider_name():
    with pytest.raises(BackendNotFoundError, match="ort:warpdrive"):
        get_backend("ort:warpdrive")


def test_missing_provider_says_which_package_brings_it():
    backend = get_backend("ort:openvino")
    assert backend.devices() == []
    assert "onnxruntime-openvino" in backend.unavailable_reason()


def test_plugin_library_that_does_not_exist(tmp_path):
    from xinrt import InvalidArgumentError
    from xinrt.backends.ort import register_ep_library

    with pytest.raises(InvalidArgumentError, match="file not found"):
        register_ep_library("myep", tmp_path / "libmyep.so")


def test_plugin_library_that_is_not_a_library(tmp_path):
    from xinrt import BackendUnavailableError
    from xinrt.backends.ort import register_ep_library

    bogus = tmp_path / "libbogus.so"
    bogus.write_bytes(b"not an ELF file")
    with pytest.raises(BackendUnavailableError, match="plugin EP library 'bogus'"):
        register_ep_library("bogus", bogus)


def _node(op, dtype=TensorProto.FLOAT, **attrs):
    import onnx_ir as ir

    model = make_model(
        [helper.make_node(op, ["x", "y"], ["z"], name="n", **attrs)],
        [tensor("x", [2, 2], dtype), tensor("y", [2, 2], dtype)],
        [tensor("z", [2, 2], dtype)],
    )
    return next(iter(ir.from_proto(model).graph))


def test_rules_decline_what_ort_computes_differently_from_the_spec():
    from xinrt.backends.ort.rules import known_deviation

    assert "bfloat16" in known_deviation(_node("Add", TensorProto.BFLOAT16))
    assert "float16" in known_deviation(_node("MatMul", TensorProto.FLOAT16))
    assert known_deviation(_node("MatMul", TensorProto.FLOAT16), "CUDAExecutionProvider") == ""
    assert known_deviation(_node("MatMul")) == ""
    assert "DFT" in known_deviation(_node("DFT"))
