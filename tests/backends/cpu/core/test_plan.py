"""The xinrt._native API: build info, capability answers, Plan errors, threads, memory."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.backends.cpu.native_helpers import run_native  # noqa: E402

_native = pytest.importorskip("xinrt._native")


def test_build_info_reports_version_build_id_and_simd_paths(monkeypatch):
    monkeypatch.delenv("XINRT_CPU_BASELINE", raising=False)
    monkeypatch.delenv("XINRT_CPU_SIMD", raising=False)
    info = _native.build_info()
    assert info["version"] and info["build_id"] and info["compiler"]
    assert info["simd"][0] == "baseline"
    assert set(info["simd"]) <= {
        "baseline",
        "avx2_fma",
        "avx512",
        "avx512_vnni",
        "avx512_bf16",
        "neon",
        "neon_dot",
    }
    assert info["simd_selected"] == info["simd"][-1] and info["baseline_forced"] is False
    monkeypatch.setenv("XINRT_CPU_BASELINE", "1")
    assert _native.build_info()["baseline_forced"] is True
    assert _native.build_info()["simd_selected"] == "baseline"


def test_registered_ops_lists_each_op_once_with_dtypes():
    ops = _native.registered_ops()
    names = [o["op_type"] for o in ops]
    assert len(names) == len(set(names))
    by_name = {o["op_type"]: o for o in ops}
    for op in ["Add", "MatMul", "Softmax", "Relu", "Identity"]:
        assert op in by_name
    assert by_name["MatMul"]["dtypes"] == ["float32"]
    assert "int64" in by_name["Add"]["dtypes"]


def test_check_node_accepts_supported_and_declines_dtype_with_reason():
    assert _native.check_node("Add", "", 13, ["float32", "float32"], [[2, 3], None], {}, 1) == ""
    reason = _native.check_node("MatMul", "", 13, ["int32", "int32"], [None, None], {}, 1)
    assert "MatMul" in reason and "int32" in reason and "float32" in reason


def test_check_node_declines_unknown_op_domain_and_opset():
    assert "no native kernel for NoSuchOp" in _native.check_node("NoSuchOp", "", 13, [], [], {}, 1)
    assert "com.example" in _native.check_node(
        "Add", "com.example", 1, ["float32"] * 2, [None] * 2, {}, 1
    )
    reason = _native.check_node("Add", "", 6, ["float32"] * 2, [None] * 2, {}, 1)
    assert "opset 6" in reason


def test_check_node_declines_unsupported_dtype_name():
    reason = _native.check_node("Add", "", 13, ["complex64", "complex64"], [None, None], {}, 1)
    assert "complex64" in reason


def test_plan_raises_value_error_naming_unsupported_node():
    node = ("NoSuchOp", "", 13, [0], [1], {}, "my_node")
    with pytest.raises(ValueError, match="my_node.*NoSuchOp"):
        _native.Plan([node], 2, [0], [1], {}, 1)


def test_plan_with_input_dtypes_declines_unsupported_dtype_at_build():
    node = ("MatMul", "", 13, [0, 1], [2], {}, "mm")
    with pytest.raises(ValueError, match="mm.*int64"):
        _native.Plan([node], 3, [0, 1], [2], {}, 1, input_dtypes=["int64", "int64"])


def test_run_raises_type_error_on_wrong_dtype():
    node = ("Relu", "", 13, [0], [1], {}, "relu")
    plan = _native.Plan([node], 2, [0], [1], {}, 1, input_dtypes=["float32"])
    with pytest.raises(TypeError, match="slot 0.*float32.*float64"):
        plan.run([np.ones(3, np.float64)])
    untyped = _native.Plan([node], 2, [0], [1], {}, 1)
    with pytest.raises(TypeError, match="relu.*slot 0.*float64"):
        untyped.run([np.ones(3, np.float64)])


def test_run_raises_value_error_naming_node_when_shapes_cannot_broadcast():
    node = ("Add", "", 13, [0, 1], [2], {}, "bad_add")
    plan = _native.Plan([node], 3, [0, 1], [2], {}, 1)
    with pytest.raises(ValueError, match="bad_add.*Add.*broadcast"):
        plan.run([np.ones((2, 3), np.float32), np.ones((4,), np.float32)])
    (ok,) = plan.run([np.ones((2, 3), np.float32), np.ones((3,), np.float32)])  # still usable
    assert ok.shape == (2, 3)


def test_concurrent_runs_from_four_threads_give_identical_results():
    rng = np.random.default_rng(8)
    w = rng.standard_normal((64, 48)).astype(np.float32)
    nodes = [
        ("MatMul", "", 13, [0, 1], [2], {}, "mm"),
        ("Relu", "", 13, [2], [3], {}, "relu"),
        ("Softmax", "", 13, [3], [4], {"axis": -1}, "sm"),
    ]
    plan = _native.Plan(nodes, 5, [0], [4], {1: w}, 2)
    xs = [rng.standard_normal((33, 64)).astype(np.float32) for _ in range(4)]
    expected = [plan.run([x])[0] for x in xs]
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for _ in range(20):
                np.testing.assert_array_equal(plan.run([xs[i]])[0], expected[i])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_non_contiguous_inputs_are_accepted():
    rng = np.random.default_rng(9)
    a = rng.standard_normal((8, 6)).astype(np.float32).T  # Fortran order view
    b = rng.standard_normal((6, 10)).astype(np.float32)[:, ::2]  # strided view
    (y,) = run_native("Add", [a, b[:, :1]])
    np.testing.assert_allclose(y, a + b[:, :1], rtol=1e-6)
    (m,) = run_native("MatMul", [a, rng.standard_normal((8, 3)).astype(np.float32)[::1]])
    assert m.shape == (6, 3)


def test_scalar_inputs_and_constants_keep_their_rank():
    node = ("Add", "", 13, [0, 1], [2], {}, "add")
    plan = _native.Plan([node], 3, [0], [2], {1: np.array(2.0, np.float32)}, 1)
    (y,) = plan.run([np.array(3.0, np.float32)])
    assert y.shape == () and y == 5.0


def test_outputs_are_fresh_writable_and_own_their_memory():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    node = ("Identity", "", 13, [0], [1], {}, "id")
    plan = _native.Plan([node], 2, [0], [1, 0], {}, 1)
    y, x_out = plan.run([x])
    assert y.flags.c_contiguous and y.flags.writeable and x_out.flags.writeable
    y[0, 0] = 100.0
    x_out[0, 1] = 200.0
    assert x[0, 0] == 0.0 and x[0, 1] == 1.0  # input untouched: aliased outputs are copies
    assert not np.shares_memory(y, x_out)


def test_constant_output_slot_returns_a_copy():
    c = np.ones(4, np.float32)
    plan = _native.Plan([("Relu", "", 13, [0], [1], {}, "r")], 3, [0], [1, 2], {2: c}, 1)
    out = plan.run([np.ones(4, np.float32)])
    out[1][:] = 5.0
    np.testing.assert_array_equal(plan.run([np.ones(4, np.float32)])[1], c)


def test_num_threads_property_and_default():
    assert _native.Plan([], 1, [0], [0], {}, 3).num_threads == 3
    assert _native.Plan([], 1, [0], [0], {}, 0).num_threads >= 1


def test_chain_frees_intermediates_and_gives_reference_result():
    x = np.linspace(-3, 3, 35, dtype=np.float32).reshape(5, 7)
    nodes = [
        ("Neg", "", 13, [0], [1], {}, "n"),
        ("Relu", "", 13, [1], [2], {}, "r"),
        ("Exp", "", 13, [2], [3], {}, "e"),
        ("Add", "", 13, [3, 2], [4], {}, "a"),
    ]
    (y,) = _native.Plan(nodes, 5, [0], [4], {}, 2).run([x])
    r = np.maximum(-x, 0)
    np.testing.assert_allclose(y, np.exp(r) + r, rtol=1e-5, atol=1e-6)
