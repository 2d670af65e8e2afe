"""`xinrt conformance` through its register() hook, and the expected-failure file format."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from xinrt import BackendNotFoundError, InvalidArgumentError, XinrtError
from xinrt.conformance import TestResult
from xinrt.conformance.cli import register
from xinrt.conformance.xfail import check_results, load_expected_failures, parse_expected_failures

EXPECTED_FAILURES = Path(__file__).with_name("expected_failures.txt")


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="xinrt")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["conformance", *argv])


def test_conformance_writes_every_report_for_each_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parse(
        "--ops",
        "Relu,Det",
        "--kinds",
        "node",
        "--backends",
        "cpu",
        "--strict",
        "--backends",
        "cpu,reference",
        "--out",
        str(tmp_path),
        "--no-progress",
    )
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "| `cpu --strict` |" in out and "| `cpu,reference --strict` |" in out
    data = json.loads((tmp_path / "conformance.json").read_text())
    strict, chain = data["runs"]
    assert strict["by_op"]["Det"]["unsupported"] == strict["by_op"]["Det"]["total"]
    assert strict["totals"]["fail"] == 0
    assert {t["op"] for t in strict["tests"]} == {"Relu", "Det"}
    assert (tmp_path / "conformance.html").read_text().startswith("<!DOCTYPE html>")
    assert "## Ops" in (tmp_path / "conformance.md").read_text()

    merged = tmp_path / "merged"
    args = _parse(
        "--merge", str(tmp_path / "conformance.json"), "--format", "md", "--out", str(merged)
    )
    assert args.func(args) == 0
    assert "`cpu,reference --strict`" in (merged / "conformance.md").read_text()


def test_expected_failures_option_sets_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = tmp_path / "xfail.txt"
    listed.write_text("test_det: cpu has no Det kernel\n")
    args = _parse(
        "--ops",
        "Det",
        "--kinds",
        "node",
        "--backends",
        "cpu",
        "--strict",
        "--format",
        "json",
        "--out",
        str(tmp_path),
        "--no-progress",
        "--expected-failures",
        str(listed),
    )
    assert args.func(args) == 1  # test_det_* variants other than test_det are new failures
    assert "NEW UNSUPPORTED: test_det_2d" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, error, match",
    [
        (["--kinds", "nodes"], InvalidArgumentError, "unknown test kind"),
        (["--format", "pdf"], InvalidArgumentError, "unknown report format"),
        (["--backends", "nosuch", "--ops", "Relu"], BackendNotFoundError, "unknown backend"),
        (["--backends", ",", "--ops", "Relu"], InvalidArgumentError, "empty"),
        (["--ops", "NoSuchOp", "--kinds", "simple"], InvalidArgumentError, "no test exercises"),
        (["--merge", "missing.json"], InvalidArgumentError, "file not found"),
        (["--merge", "a.json", "--strict"], InvalidArgumentError, "takes no"),
    ],
)
def test_bad_arguments_raise_xinrt_errors(
    argv: list[str], error: type[XinrtError], match: str, tmp_path: Path
) -> None:
    args = _parse(*argv, "--out", str(tmp_path), "--no-progress")
    with pytest.raises(error, match=match):
        args.func(args)


def test_expected_failure_entries_need_a_reason() -> None:
    assert parse_expected_failures("# comment\n\ntest_a: why\n") == {"test_a": "why"}
    with pytest.raises(InvalidArgumentError, match="has no reason"):
        parse_expected_failures("test_a\n", "f.txt")
    with pytest.raises(InvalidArgumentError, match="has no reason"):
        parse_expected_failures("test_a:   \n", "f.txt")
    with pytest.raises(InvalidArgumentError, match="listed twice"):
        parse_expected_failures("test_a: x\ntest_a: y\n")
    with pytest.raises(InvalidArgumentError, match="not a test name"):
        parse_expected_failures("relu: x\n")


def test_check_results_finds_new_failures_and_unexpected_passes() -> None:
    results = [
        TestResult("test_a", "node", "A", "pass"),
        TestResult("test_b", "node", "B", "fail"),
        TestResult("test_c", "node", "C", "error"),
    ]
    verdict = check_results(results, {"test_a": "was broken", "test_c": "known", "test_z": "old"})
    assert [r.name for r in verdict.new_failures] == ["test_b"]
    assert verdict.unexpected_passes == ["test_a"]
    assert verdict.unknown == ["test_z"]
    assert not verdict.ok and "UNEXPECTED PASS: test_a" in verdict.summary()


def test_the_committed_expected_failure_file_parses() -> None:
    entries = load_expected_failures(EXPECTED_FAILURES)
    assert all(reason for reason in entries.values())
