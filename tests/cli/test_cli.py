"""The xinrt command: run, info, backends, placement; errors are one readable line, exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest

from xinrt.cli import main


@pytest.fixture
def mlp_path(tmp_path, mlp_model):
    path = tmp_path / "mlp.onnx"
    onnx.save(mlp_model, str(path))
    return str(path)


def test_run_with_random_inputs_prints_placement_and_outputs(mlp_path, tmp_path, capsys):
    assert (
        main(
            [
                "run",
                mlp_path,
                "--backends",
                "cpu,ort",
                "--dim",
                "N=3",
                "--output-dir",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "placement of" in text and "output y: shape [3, 4]" in text
    saved = np.load(tmp_path / "out" / "y.npy")
    np.testing.assert_allclose(saved.sum(axis=1), np.ones(3), rtol=1e-5)


def test_run_with_given_inputs(mlp_path, tmp_path, capsys):
    x = np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["run", mlp_path, "--input", f"x={tmp_path / 'x.npy'}"]) == 0
    assert "output y: shape [2, 4]" in capsys.readouterr().out


def test_symbolic_dim_without_value_is_a_one_line_error(mlp_path, capsys):
    assert main(["run", mlp_path]) == 1
    err = capsys.readouterr().err
    assert "symbolic dim 'N'" in err and "--dim N=" in err and "Traceback" not in err


def test_info_describes_the_model(mlp_path, capsys):
    assert main(["info", mlp_path]) == 0
    text = capsys.readouterr().out
    assert "MatMul x2" in text and "input x" in text and "opsets ai.onnx:17" in text


def test_backends_lists_availability_and_reasons(capsys):
    assert main(["backends", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["cpu"]["available"] and info["reference"]["available"]


def test_placement_json(mlp_path, capsys):
    args = ["placement", mlp_path, "--backends", "cpu,ort", "--placement", "priority", "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["partitions"][0]["backend"] == "cpu"
    assert data["decision"]["mode"] == "priority"


def test_missing_model_file_exits_1_with_one_line(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.onnx")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("xinrt: error: ModelNotFoundError") and "\n" not in err


def test_debug_shows_the_traceback(tmp_path):
    from xinrt import ModelNotFoundError

    with pytest.raises(ModelNotFoundError):
        main(["--debug", "info", str(tmp_path / "missing.onnx")])


def test_console_script_is_installed(mlp_path):
    script = os.path.join(os.path.dirname(sys.executable), "xinrt")
    result = subprocess.run(
        [script, "placement", mlp_path, "--backends", "reference"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "reference" in result.stdout


def _subcommands(parser) -> list[str]:
    import argparse

    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(sub.choices)


def test_a_command_line_registers_only_the_subcommand_it_runs():
    from xinrt.cli import _command_of, build_parser

    every = _subcommands(build_parser())
    assert {"run", "serve", "corpus", "conformance", "bench", "cache", "backend"} <= set(every)
    serve = _subcommands(build_parser("serve"))
    assert "serve" in serve and "corpus" not in serve and "conformance" not in serve
    assert "bench" not in _subcommands(build_parser("run"))
    assert _subcommands(build_parser("no-such-command")) == every  # argparse lists them all
    assert _command_of(["--debug", "serve", "-h"]) == "serve"
    assert _command_of(["-h", "serve"]) is None  # the top-level help lists every command


def test_parsing_a_serve_command_line_leaves_the_conformance_suite_unimported():
    code = (
        "import sys; from xinrt.cli import build_parser, _command_of\n"
        "argv = ['--debug', 'serve', 'demo', '--port', '0']\n"
        "args = build_parser(_command_of(argv)).parse_args(argv)\n"
        "print(args.command, args.port, 'xinrt.conformance' in sys.modules,"
        " 'xinrt.corpus' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["serve", "0", "False", "False"]
