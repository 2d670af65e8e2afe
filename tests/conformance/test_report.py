"""Report writers: the JSON schema keys, Markdown tables, and an HTML page with no network use."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from xinrt import InvalidArgumentError
from xinrt.conformance import SuiteRun, TestResult
from xinrt.conformance.report import (
    SCHEMA,
    parse_formats,
    runs_from_json,
    to_html,
    to_json,
    to_markdown,
    write_reports,
)


def _runs() -> list[SuiteRun]:
    versions = {"xinrt": "0.1.0", "onnx": "1.23.2"}
    first = SuiteRun(
        ["cpu"],
        True,
        ["node"],
        None,
        [
            TestResult("test_relu", "node", "Relu", "pass", seconds=0.01, ran_on={"cpu": 1}),
            TestResult(
                "test_det",
                "node",
                "Det",
                "unsupported",
                "PlacementError: strict mode: cpu: no kernel | Det",
                error_type="PlacementError",
            ),
            TestResult(
                "test_sin",
                "node",
                "Sin",
                "fail",
                "output 0: max abs error 0.5",
                output=0,
                max_abs_error=0.5,
                max_rel_error=float("inf"),
            ),
            TestResult(
                "test_seq",
                "node",
                "SequenceAt",
                "error",
                'ValueError: <bad> & "quoted"',
                error_type="ValueError",
            ),
        ],
        "2026-01-01T00:00:00+00:00",
        1.5,
        versions,
    )
    second = SuiteRun(
        ["cpu", "ort", "reference"],
        False,
        ["node"],
        None,
        [
            TestResult("test_relu", "node", "Relu", "pass"),
            TestResult("test_det", "node", "Det", "pass", ran_on={"ort": 1}),
        ],
        "2026-01-01T00:01:00+00:00",
        2.0,
        versions,
    )
    return [first, second]


def test_json_has_the_documented_keys_and_round_trips() -> None:
    data = json.loads(to_json(_runs()))
    assert set(data) == {"schema", "generated", "versions", "runs"}
    assert data["schema"] == SCHEMA
    run = data["runs"][0]
    assert set(run) == {
        "label",
        "backends",
        "strict",
        "kinds",
        "ops",
        "started",
        "seconds",
        "versions",
        "totals",
        "by_op",
        "tests",
    }
    assert run["label"] == "cpu --strict"
    assert set(run["totals"]) == {"pass", "fail", "unsupported", "error", "total", "pass_rate"}
    assert run["by_op"]["Det"]["unsupported"] == 1
    test = run["tests"][2]
    assert set(test) == {
        "name",
        "kind",
        "op",
        "status",
        "detail",
        "seconds",
        "rtol",
        "atol",
        "output",
        "max_abs_error",
        "max_rel_error",
        "error_type",
        "ran_on",
    }
    assert test["max_rel_error"] == "inf"  # strict JSON: no Infinity literal
    back = runs_from_json(to_json(_runs()))
    assert [r.label for r in back] == ["cpu --strict", "cpu,ort,reference"]
    assert back[0].results[2].max_rel_error == float("inf")
    assert back[0].totals() == _runs()[0].totals()


def test_json_reader_rejects_other_files() -> None:
    with pytest.raises(InvalidArgumentError, match="not an xinrt conformance report"):
        runs_from_json('{"schema": "other"}', "x.json")
    with pytest.raises(InvalidArgumentError, match="not JSON"):
        runs_from_json("{", "x.json")


def test_markdown_has_summary_matrix_and_the_tests_not_passing() -> None:
    text = to_markdown(_runs())
    assert "| `cpu --strict` | 4 | 1 | 1 | 1 | 1 | 25.0% |" in text
    assert "| `cpu,ort,reference` | 2 | 2 | 0 | 0 | 0 | 100.0% |" in text
    assert "| Det | 0/1 (1 unsupported) | 1/1 |" in text
    assert "| SequenceAt | 0/1 (1 error) | - |" in text
    assert "strict mode: cpu: no kernel \\| Det" in text  # pipes escaped inside cells
    assert "onnx 1.23.2" in text
    assert "test_relu" not in text.split("tests not passing")[1]


def test_html_is_self_contained_and_escaped() -> None:
    page = to_html(_runs())
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"(src|href)\s*=|https?://|@import|url\(", page)
    assert "&lt;bad&gt; &amp; &quot;quoted&quot;" in page
    assert page.count("<tr data-status=") == 4  # one row per test, a column per configuration


def test_write_reports_and_formats(tmp_path: Path) -> None:
    paths = write_reports(_runs(), tmp_path / "out", parse_formats("json,md"))
    assert [Path(p).name for p in paths] == ["conformance.json", "conformance.md"]
    assert parse_formats(None) == ["md", "json", "html"]
    with pytest.raises(InvalidArgumentError, match="unknown report format"):
        parse_formats("pdf")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidArgumentError, match="not a directory"):
        write_reports(_runs(), tmp_path / "file", ["md"])
