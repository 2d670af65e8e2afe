"""ORT drop-in: an unmodified onnxruntime program runs on xinrt, with and without onnxruntime."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.helpers import make_model, tensor

APP = Path(__file__).with_name("app_for_onnxruntime.py")


def _lstm_if_model(folder: Path) -> Path:
    """x[5,2,3] -> LSTM(hidden 4) -> If(flag: Relu | MeanVarianceNormalization) -> y; weights as
    external data.

    MeanVarianceNormalization has no native kernel, so `cpu` declines the If (strict mode then
    refuses)."""
    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.standard_normal((1, 16, 3)).astype(np.float32) * 0.5, "W")
    r = numpy_helper.from_array(rng.standard_normal((1, 16, 4)).astype(np.float32) * 0.5, "R")
    b = numpy_helper.from_array(rng.standard_normal((1, 32)).astype(np.float32) * 0.1, "B")
    then_branch = helper.make_graph([helper.make_node("Relu", ["seq"], ["t"])], "then", [],
                                    [tensor("t", [5, 1, 2, 4])])
    else_branch = helper.make_graph([helper.make_node("MeanVarianceNormalization", ["seq"], ["e"])],
                                    "else", [],
                                    [tensor("e", [5, 1, 2, 4])])
    nodes = [
        helper.make_node("LSTM", ["x", "W", "R", "B"], ["seq", "hidden"], hidden_size=4,
                         name="lstm"),
        helper.make_node("If", ["flag"], ["y"], then_branch=then_branch, else_branch=else_branch,
                         name="branch"),
    ]
    model = make_model(nodes, [tensor("x", [5, 2, 3]), tensor("flag", [], TensorProto.BOOL)],
                       [tensor("y", [5, 1, 2, 4]), tensor("hidden", [1, 2, 4])], [w, r, b],
                       opset=17, producer_name="drop-in-test", model_version=7)
    onnx.helper.set_model_props(model, {"author": "xinrt", "purpose": "drop-in"})
    path = folder / "lstm_if.onnx"
    onnx.save(model, str(path), save_as_external_data=True, location="lstm_if.bin",
              size_threshold=0)
    return path


def _run(command: list[str], env_extra: dict[str, str] | None = None) -> str:
    env = dict(os.environ)
    env.update(env_extra or {})
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _xinrt() -> str:
    return os.path.join(os.path.dirname(sys.executable), "xinrt")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return _lstm_if_model(tmp_path_factory.mktemp("dropin"))


@pytest.fixture(scope="module")
def real_output(model_path) -> str:
    return _run([sys.executable, str(APP), str(model_path)])


def test_xinrt_exec_prints_what_real_onnxruntime_prints(model_path, real_output):
    out = _run([_xinrt(), "exec", "--", sys.executable, str(APP), str(model_path)])
    assert out == real_output


def test_python_m_drop_in_with_xinrt_backends(model_path, real_output):
    out = _run([sys.executable, "-m", "xinrt.drop_in", "--backends", "cpu,reference", str(APP),
                str(model_path)])
    assert out == real_output


def test_without_onnxruntime_the_program_runs_on_cpu_and_reference(model_path, real_output,
                                                                   tmp_path):
    blocker = tmp_path / "blocked" / "onnxruntime"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('onnxruntime hidden by the test')\n")
    out = _run([_xinrt(), "exec", "--report", "--", sys.executable, "-W", "ignore", str(APP),
                str(model_path)], {"PYTHONPATH": str(blocker.parent)})
    assert out == real_output


def test_report_names_the_backends_that_ran(model_path, tmp_path):
    env = dict(os.environ)
    result = subprocess.run([_xinrt(), "exec", "--backends", "cpu,reference", "--report", "--",
                             sys.executable, str(APP), str(model_path)],
                            capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "[xinrt] 1 session(s)" in result.stderr and "reference" in result.stderr


def test_strict_mode_refuses_fallback(model_path):
    result = subprocess.run([_xinrt(), "exec", "--backends", "cpu,reference", "--strict", "--",
                             sys.executable, str(APP), str(model_path)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode != 0 and "strict mode" in result.stderr


def test_exec_without_a_command_is_a_one_line_error(capsys):
    from xinrt.cli import main

    assert main(["exec"]) == 1
    assert "needs a command" in capsys.readouterr().err


def test_exec_of_a_command_it_cannot_start_is_a_one_line_error(capsys, tmp_path):
    from xinrt.cli import main

    script = tmp_path / "app.py"  # a script given alone, not executable
    script.write_text("print('hi')\n")
    assert main(["exec", "--", str(script)]) == 1
    err = capsys.readouterr().err
    assert "Permission denied" in err and "xinrt exec -- python" in err
    assert main(["exec", "--", str(tmp_path / "missing")]) == 1
    assert "command not found" in capsys.readouterr().err


def test_the_drop_in_module_has_a_file_as_onnxruntime_does():
    code = ("import os, xinrt; xinrt.install_as_onnxruntime(); import onnxruntime as o; "
            "print(os.path.isfile(o.__file__), os.path.isdir(os.path.dirname(o.__file__)))")
    assert _run([sys.executable, "-c", code]).split() == ["True", "True"]


def test_install_as_onnxruntime_in_process():
    code = ("import xinrt; xinrt.install_as_onnxruntime(); import onnxruntime as o; "
            "from onnxruntime.capi.onnxruntime_pybind11_state import Fail; "
            "print(o.__version__, o.InferenceSession.__module__, Fail.__name__)")
    out = _run([sys.executable, "-c", code])
    assert "+xinrt" in out and "XinrtError" in out
