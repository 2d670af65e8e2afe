"""`xinrt bench`: bad arguments raise InvalidArgumentError; a short run writes JSON and a chart."""

from __future__ import annotations

import argparse
import json
import re
import sys

import onnx
import pytest

from xinrt import InvalidArgumentError
from xinrt.bench.cli import config_from_args, register
from xinrt.bench.models import one_node_model


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="xinrt")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["bench", *argv])


@pytest.fixture
def model_path(tmp_path) -> str:
    path = tmp_path / "one_node.onnx"
    onnx.save(one_node_model(), str(path))
    return str(path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--iterations", "-3"], "--iterations must be an integer >= 1"),
        (["--iterations", "0"], "--iterations must be an integer >= 1"),
        (["--iterations", "many"], "--iterations wants an integer"),
        (["--warmup", "-1"], "--warmup must be an integer >= 0"),
        (["--threads", "-2"], "--threads must be an integer >= 0"),
        (["--duration", "0"], "--duration must be a number > 0"),
        (["--duration", "nan"], "--duration must be a number > 0"),
        (["--duration", "5", "--iterations", "10"], "either --duration or --iterations"),
        (["--scenario", "batch-of-fun"], "unknown scenario 'batch-of-fun'"),
        (["--scenario", "server"], "needs a target rate: --qps"),
        (["--qps", "10"], "--qps applies to --scenario server only"),
        (["--scenario", "server", "--qps", "-1"], "--qps must be a number > 0"),
        (["--batch", "0", "--scenario", "offline"], "--batch must be an integer >= 1"),
        (["--batch", "4"], "single-stream runs one sample per query"),
        (["--compare", "tensorflow"], "--compare knows only 'ort'"),
        (["--backends", ","], "--backends wants names"),
        (["--rtol", "-1"], "--rtol must be a number >= 0"),
        (["--concurrency", "0", "--scenario", "offline"], "--concurrency must be an integer"),
        (["--plot", "chart.jpg"], "--plot writes a PNG"),
        (["--dim", "batch"], "--dim wants NAME=INT"),
        (["--precision", "bfloat16"], "--precision must be one of fp32, fp16, bf16, int8"),
    ],
)
def test_bad_arguments_raise_invalid_argument_error(model_path, extra, message):
    args = parse([model_path, *extra])
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        args.func(args)


def test_bad_arguments_are_caught_before_the_model_is_opened():
    args = parse(["/no/such/model.onnx", "--iterations", "-1"])
    with pytest.raises(InvalidArgumentError, match="--iterations"):
        config_from_args(args)


def test_repeated_backends_make_one_list_each(model_path):
    config = config_from_args(
        parse(
            [
                model_path,
                "--backends",
                "cpu",
                "--backends",
                "cpu, ort,reference",
                "--compare",
                "ort",
            ]
        )
    )
    assert config.backend_lists == [["cpu"], ["cpu", "ort", "reference"]]
    assert config.compare_ort and config.scenario == "single-stream"


def test_short_run_prints_a_table_and_writes_the_json(model_path, tmp_path, capsys):
    out = tmp_path / "result.json"
    args = parse(
        [
            model_path,
            "--backends",
            "reference",
            "--compare",
            "ort",
            "--iterations",
            "4",
            "--warmup",
            "1",
            "--accuracy",
            "--json",
            str(out),
            "--no-progress",
        ]
    )
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert "p99" in text and "ratio reference / onnxruntime" in text
    document = json.loads(out.read_text())
    assert document["schema"] == "xinrt.bench/1"
    assert [r["rounds"] for r in document["results"]] == [4, 4]
    assert document["comparisons"][0]["ratio"]["pairs"] == 4


def test_plot_writes_a_png(model_path, tmp_path):
    pytest.importorskip("matplotlib")
    chart = tmp_path / "latency.png"
    args = parse(
        [
            model_path,
            "--backends",
            "reference",
            "--iterations",
            "3",
            "--plot",
            str(chart),
            "--no-progress",
        ]
    )
    assert args.func(args) == 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_how_to_install_it(model_path, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    args = parse([model_path, "--iterations", "3", "--plot", str(tmp_path / "x.png")])
    with pytest.raises(InvalidArgumentError, match="pip install matplotlib"):
        args.func(args)
