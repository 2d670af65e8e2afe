"""`xinrt conformance`: run onnx's backend test suite through xinrt and write the reports.

xinrt conformance [--backends LIST ...] [--strict] [--ops OP,...] [--kinds K,...]
                  [--format md,json,html] [--out DIR] [--expected-failures FILE]
                  [--merge REPORT.json ...]
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from ..errors import InvalidArgumentError


def _list(text: str | None) -> list[str] | None:
    return [item.strip() for item in text.split(",") if item.strip()] if text else None


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `conformance` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "conformance",
        help="run the ONNX backend test suite through xinrt and report",
        description="Run the onnx wheel's backend tests through xinrt: each test is pass, fail "
        "(wrong values), unsupported (the backends declined) or error.",
    )
    parser.add_argument(
        "--backends",
        action="append",
        metavar="LIST",
        help="comma-separated chain in priority order; repeat to compare several "
        "configurations (default: the default chain)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="no fallback: every node on the first backend, else unsupported",
    )
    parser.add_argument("--ops", metavar="OP,...", help="only tests of these ops")
    parser.add_argument(
        "--kinds",
        metavar="KIND,...",
        help="node,simple,real,pytorch-converted,pytorch-operator (light = real; default: all)",
    )
    parser.add_argument(
        "--format",
        default="md,json,html",
        metavar="md,json,html",
        help="report formats to write (default: all three)",
    )
    parser.add_argument(
        "--out",
        default="conformance-report",
        metavar="DIR",
        help="folder for conformance.{md,json,html} (default: conformance-report)",
    )
    parser.add_argument(
        "--expected-failures",
        metavar="FILE",
        help="exit 1 when a test not listed in FILE does not pass; list unexpected passes",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="REPORT.json",
        help="write one report from earlier JSON reports instead of running",
    )
    parser.add_argument(
        "--title",
        default="ONNX backend conformance",
        help="heading of the Markdown and HTML reports",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_conformance)
    return parser


def cmd_conformance(args: argparse.Namespace) -> int:
    """Run (or merge) the suite, write the reports, print the summary; return the exit code."""
    from .report import parse_formats, runs_from_json, summary_table, write_reports
    from .suite import discover_tests, normalize_kinds, run_suite

    formats = parse_formats(args.format)
    expected = None
    if args.expected_failures:
        from .xfail import load_expected_failures

        expected = load_expected_failures(args.expected_failures)
    if args.merge:
        if args.backends or args.ops or args.kinds or args.strict:
            raise InvalidArgumentError(
                "--merge builds a report from JSON files; it takes no "
                "--backends, --strict, --ops or --kinds"
            )
        runs = []
        for path in args.merge:
            if not os.path.isfile(path):
                raise InvalidArgumentError(f"--merge: file not found: {path}")
            with open(path, encoding="utf-8") as f:
                runs.extend(runs_from_json(f.read(), path))
    else:
        kinds = normalize_kinds(_list(args.kinds))
        ops = _list(args.ops)
        chains: list[list[str] | None] = [None]  # None: the default chain
        if args.backends:
            chains = [_list(text) for text in args.backends]
            if not all(chains):
                raise InvalidArgumentError("--backends is empty; name at least one backend")
        tests = discover_tests(kinds, ops)
        runs = [
            run_suite(
                tests, chain, args.strict, progress=not args.no_progress, kinds=kinds, ops=ops
            )
            for chain in chains
        ]
    paths = write_reports(runs, args.out, formats, args.title)
    print("\n".join(summary_table(runs)))
    for path in paths:
        print(f"wrote {path}")
    if expected is None:
        return 0
    from .xfail import check_results

    status = 0
    for run in runs:
        verdict = check_results(run.results, expected)
        print(
            f"{run.label}: {verdict.summary()}", file=sys.stderr if not verdict.ok else sys.stdout
        )
        status = status or (0 if verdict.ok else 1)
    return status
