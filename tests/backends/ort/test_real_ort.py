"""Module aliasing is safe (issue 13): with `sys.modules["onnxruntime"]` pointing at xinrt, set
before or after xinrt's `ort` backend loads, xinrt never calls itself. Each case runs in a child
Python, since aliasing changes the process's module table."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import helper, numpy_helper

from tests.helpers import make_model, tensor

_PROGRAM_HEAD = """
import sys
import numpy as np
"""

# One seeded model, one ORT reference; the child prints max |xinrt - ORT| on its own line.
_RUN_AND_COMPARE = """
session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
x = np.random.default_rng(11).standard_normal((2, 8)).astype(np.float32)
got = session.run(None, {"x": x})[0]
want = np.load(sys.argv[2])
parts = session.placement.to_dict()["partitions"]
print("backends", ",".join(sorted({p["backend"] for p in parts})))
print("diff", float(np.max(np.abs(got - want))))
import xinrt.backends.ort.backend as ortb
print("real", ortb._ort is not None and not getattr(ortb._ort, "__xinrt__", False)
      and ortb._ort.__name__ == "onnxruntime" and ortb._ort is not sys.modules["xinrt"])
print("alias_kept", sys.modules["onnxruntime"] is sys.modules["xinrt"])
"""


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> tuple[str, str]:
    folder = tmp_path_factory.mktemp("alias")
    rng = np.random.default_rng(2)
    w = numpy_helper.from_array(rng.standard_normal((8, 4)).astype(np.float32), "w")
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["h"]),
        # Softsign has no native kernel: `ort` must run it, so the ort backend is exercised.
        helper.make_node("Softsign", ["h"], ["y"]),
    ]
    model = make_model(nodes, [tensor("x", [2, 8])], [tensor("y", [2, 4])], [w])
    path = folder / "model.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(11).standard_normal((2, 8)).astype(np.float32)
    want = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x}
    )[0]
    np.save(folder / "want.npy", want)
    return str(path), str(folder / "want.npy")


def _child(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RecursionError" not in result.stderr
    return dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)


def _check(out: dict[str, str], backends: str = "ort") -> None:
    assert float(out["diff"]) <= 1e-5, out
    assert out["backends"] == backends, out
    assert out["real"] == "True", out
    assert out["alias_kept"] == "True", out


def test_alias_set_after_import_xinrt(model_files):
    code = _PROGRAM_HEAD + "import xinrt\nsys.modules['onnxruntime'] = xinrt\n"
    code += "import onnxruntime as ort\n" + _RUN_AND_COMPARE
    _check(_child(code, *model_files))


def test_alias_set_after_the_ort_backend_already_loaded(model_files):
    code = _PROGRAM_HEAD + "import xinrt\nxinrt.backend_info()\n"
    code += "sys.modules['onnxruntime'] = xinrt\nimport onnxruntime as ort\n" + _RUN_AND_COMPARE
    _check(_child(code, *model_files))


def test_alias_set_by_a_harness_before_the_program_imports_xinrt(model_files, tmp_path):
    """A harness module aliases first; the program then only knows `import onnxruntime`."""
    (tmp_path / "harness.py").write_text(
        "import importlib, sys\nsys.modules['onnxruntime'] = importlib.import_module('xinrt')\n"
    )
    code = _PROGRAM_HEAD + "import harness\nimport onnxruntime as ort\n" + _RUN_AND_COMPARE
    code += "from onnxruntime.capi.onnxruntime_pybind11_state import Fail, OrtValueVector\n"
    code += "print('capi', Fail is sys.modules['xinrt'].XinrtError, len(OrtValueVector()))\n"
    out = _child(code, *model_files, env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.getcwd()}"})
    _check(out)
    assert out["capi"] == "True 0"


def test_alias_without_a_real_onnxruntime_reports_ort_unavailable(model_files, tmp_path):
    blocker = tmp_path / "onnxruntime"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('onnxruntime hidden by the test')\n")
    code = _PROGRAM_HEAD + "import xinrt\nsys.modules['onnxruntime'] = xinrt\n"
    code += "import onnxruntime as ort\n"
    code += "print('ort', xinrt.backend_info()['ort']['available'])\n"
    code += _RUN_AND_COMPARE.replace('providers=["CPUExecutionProvider"]', "")
    code = code.replace('print("real"', 'print("real", True) or print("unused"')
    out = _child(code, *model_files, env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.getcwd()}"})
    assert out["ort"] == "False"
    assert float(out["diff"]) <= 1e-5 and "ort" not in out["backends"].split(","), out


def test_find_real_onnxruntime_is_the_installed_package():
    from xinrt.backends.ort.real_ort import find_real_onnxruntime, is_xinrt

    found = find_real_onnxruntime()
    assert found is onnxruntime and not is_xinrt(found)
    assert Path(found.__file__).parent.name == "onnxruntime"


def test_a_blocked_onnxruntime_stays_blocked(monkeypatch):
    """`sys.modules["onnxruntime"] = None` is the import system's way to hide a module."""
    from xinrt.backends.ort.real_ort import find_real_onnxruntime

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert find_real_onnxruntime() is None
    assert sys.modules["onnxruntime"] is None
