"""Conformance suite: discovery, output comparison, classification (pass/fail/unsupported/error)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx.backend.test.case.test_case import TestCase

from xinrt import InvalidArgumentError, PlacementError, UnsupportedError
from xinrt.conformance import (
    ConformanceTest,
    classify_exception,
    compare_outputs,
    discover_tests,
    run_suite,
    run_test,
)
from xinrt.conformance.suite import normalize_kinds, status_counts


def _one_node_test(
    op: str,
    inputs: list[np.ndarray],
    expected: list[np.ndarray],
    name: str = "test_custom",
    rtol: float = 1e-3,
    atol: float = 1e-7,
    **attrs: object,
) -> ConformanceTest:
    names = [f"x{i}" for i in range(len(inputs))]
    node = helper.make_node(op, names, ["y"], **attrs)
    graph = helper.make_graph(
        [node],
        name,
        [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
            for n, a in zip(names, inputs)
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(inputs[0].shape))],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    case = TestCase(
        name=name,
        model_name=name,
        url=None,
        model_dir=None,
        model=model,
        data_sets=[(inputs, expected)],
        kind="node",
        rtol=rtol,
        atol=atol,
    )
    return ConformanceTest(name, "node", op, rtol, atol, case)


X = np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=np.float32)


def test_correct_outputs_pass() -> None:
    result = run_test(_one_node_test("Relu", [X], [np.maximum(X, 0)]), ["cpu"], strict=True)
    assert result.status == "pass", result.detail
    assert result.ran_on == {"cpu": 1}


def test_wrong_values_fail_with_errors_and_the_tolerance_missed() -> None:
    wrong = np.maximum(X, 0) + np.float32(0.5)
    result = run_test(_one_node_test("Relu", [X], [wrong]), ["cpu"], strict=True)
    assert result.status == "fail"
    assert result.output == 0
    assert result.max_abs_error == pytest.approx(0.5)
    assert result.max_rel_error == pytest.approx(1.0)
    assert "rtol 0.001" in result.detail and "atol 1e-07" in result.detail


def test_per_test_tolerance_is_used() -> None:
    close = np.maximum(X, 0) * np.float32(1.01)
    assert run_test(_one_node_test("Relu", [X], [close], rtol=0.05), ["cpu"], True).status == "pass"
    assert run_test(_one_node_test("Relu", [X], [close]), ["cpu"], True).status == "fail"


def test_a_declined_node_is_unsupported_with_the_backends_reason() -> None:
    det = np.eye(3, dtype=np.float32)[None]
    result = run_test(_one_node_test("Det", [det], [np.ones(1, np.float32)]), ["cpu"], True)
    assert result.status == "unsupported"
    assert result.detail.startswith("PlacementError:")
    assert "Det" in result.detail and "cpu" in result.detail


def test_any_other_exception_is_an_error_with_type_and_first_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from xinrt.onnx_backend import XinrtBackend

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kernel exploded\nsecond line")

    monkeypatch.setattr(XinrtBackend, "prepare", broken)
    result = run_test(_one_node_test("Relu", [X], [X]), ["cpu"], True)
    assert (result.status, result.detail, result.error_type) == (
        "error",
        "RuntimeError: kernel exploded",
        "RuntimeError",
    )


def test_classify_exception_statuses() -> None:
    assert classify_exception(UnsupportedError("cpu: no kernel"))[0] == "unsupported"
    status, detail = classify_exception(PlacementError("cannot place\n  node a: why"))
    assert status == "unsupported" and detail == "PlacementError: cannot place node a: why"
    assert classify_exception(ValueError("bad"))[0] == "error"


def test_compare_outputs_follows_the_runner() -> None:
    a = np.array([1.0, 2.0, np.nan], np.float32)
    assert compare_outputs([a], [a.copy()], 1e-3, 1e-7) is None  # NaN == NaN, as the runner
    shape = compare_outputs([a], [a[:2]], 1e-3, 1e-7)
    assert shape is not None and "shape [2], expected [3]" in shape.detail
    dtype = compare_outputs([a], [a.astype(np.float64)], 1e-3, 1e-7)
    assert dtype is not None and "dtype float64" in dtype.detail
    count = compare_outputs([a, a], [a], 1e-3, 1e-7)
    assert count is not None and "1 outputs, expected 2" in count.detail
    strings = np.array(["a", "b"], dtype=object)
    assert compare_outputs([strings], [strings.copy()], 1e-3, 1e-7) is None
    diff = compare_outputs([strings], [np.array(["a", "c"], dtype=object)], 1e-3, 1e-7)
    assert diff is not None and "1/2 strings differ" in diff.detail
    seq = compare_outputs([[a, a]], [[a, a + 1]], 1e-3, 1e-7)
    assert seq is not None and "sequence" in seq.detail


def test_bfloat16_gets_the_runners_wider_tolerance() -> None:
    import ml_dtypes

    ref = np.array([1.0, 2.0], dtype=ml_dtypes.bfloat16)
    near = (ref.astype(np.float32) * np.float32(1.01)).astype(ml_dtypes.bfloat16)
    assert compare_outputs([ref], [near], 1e-3, 1e-7) is None


def test_discovery_covers_the_kinds_and_names_ops() -> None:
    tests = discover_tests(["node"], ops=["Softmax"])
    names = {t.name for t in tests}
    assert "test_softmax_axis_0" in names
    assert "test_softmax_axis_0_expanded" in names  # an expanded test counts for its op
    assert {t.op for t in tests} == {"Softmax"}
    model_tests = discover_tests(["pytorch-operator", "simple"])
    assert {t.kind for t in model_tests} == {"pytorch-operator", "simple"}
    assert not any(t.name.endswith("_cuda") for t in model_tests)


def test_real_tests_are_the_light_models() -> None:
    tests = discover_tests(["light"])
    assert tests and all(t.kind == "real" for t in tests)
    model, data_sets = tests[0].load()
    inputs, expected = data_sets[0]
    assert len(expected) == len(model.graph.output)
    assert inputs[0].dtype == np.float32


def test_bad_kinds_and_ops_are_argument_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown test kind"):
        normalize_kinds(["nodes"])
    with pytest.raises(InvalidArgumentError, match="no test exercises"):
        discover_tests(["simple"], ops=["NoSuchOp"])


def test_run_suite_counts_and_labels() -> None:
    tests = [
        _one_node_test("Relu", [X], [np.maximum(X, 0)], name="test_a"),
        _one_node_test("Relu", [X], [X], name="test_b"),
    ]
    run = run_suite(tests, ["cpu"], strict=True, progress=False)
    assert run.label == "cpu --strict"
    assert run.totals() == {
        "pass": 1,
        "fail": 1,
        "unsupported": 0,
        "error": 0,
        "total": 2,
        "pass_rate": 0.5,
    }
    assert run.by_op()["Relu"]["total"] == 2
    assert {"onnx", "xinrt", "numpy"} <= set(run.versions)
    assert status_counts([])["pass_rate"] == 0.0


def test_model_tests_read_their_pb_files() -> None:
    test = next(t for t in discover_tests(["simple"]) if t.name == "test_sign_model")
    model, data_sets = test.load()
    assert isinstance(model, onnx.ModelProto)
    assert data_sets and isinstance(data_sets[0][0][0], np.ndarray)
    assert run_test(test, ["cpu", "ort", "reference"], strict=False).status == "pass"
