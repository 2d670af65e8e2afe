"""runtime/deferred_imports.py: onnx_ir's sympy is imported when first used, not with xinrt.

Each check runs in a fresh interpreter: the deferral only applies before onnx_ir is imported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_xinrt_and_running_a_model_leave_sympy_unimported() -> None:
    out = _python(
        """
        import sys
        import numpy as np
        from onnx import TensorProto, helper
        import xinrt

        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        sess = xinrt.InferenceSession(model.SerializeToString(), backends=["cpu"])
        feed = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
        out = sess.run(None, {"x": feed})[0]
        assert np.array_equal(out, np.maximum(feed, 0))
        print(sorted(m for m in sys.modules if m == "sympy" or m.startswith("sympy.")))
        print(type(sys.modules["sympy"]).__name__)
        """
    )
    assert out.splitlines() == ["['sympy']", "DeferredModule"]


def test_symbolic_dim_arithmetic_imports_sympy_when_used() -> None:
    out = _python(
        """
        import importlib.util, sys
        import xinrt
        import onnx_ir as ir

        assert importlib.util.find_spec("sympy").name == "sympy"
        dim = ir.SymbolicDim("N") * 2 + 1
        print(dim.value, dim.evaluate({"N": 5}))
        print(type(sys.modules["sympy"]).__name__, "sympy.core" in sys.modules)
        import sympy
        print(sympy.Symbol("k") + 1)
        """
    )
    assert out.splitlines() == ["2*N + 1 11", "module True", "k + 1"]


def test_threads_using_sympy_at_once_all_get_the_real_module() -> None:
    out = _python(
        """
        import threading
        import xinrt
        import onnx_ir as ir

        start = threading.Barrier(8)
        results, errors = [], []

        def use() -> None:
            start.wait()
            try:
                results.append((ir.SymbolicDim("B") + 3).value)
            except Exception as exc:
                errors.append(repr(exc))

        threads = [threading.Thread(target=use) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(sorted(set(results)), len(results), errors)
        """
    )
    assert out == "['B + 3'] 8 []"


def test_nothing_is_deferred_when_onnx_ir_came_first() -> None:
    out = _python(
        """
        import sys
        import onnx_ir
        import xinrt
        print(type(sys.modules["sympy"]).__name__)
        """
    )
    assert out == "module"
