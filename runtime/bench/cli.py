"""`xinrt bench MODEL ...`: latency, throughput and accuracy of backend lists, against ORT.

Wire it into the main parser with `register(subparsers)`. Numbers are parsed here rather than
by argparse so that every bad value raises InvalidArgumentError with one clear message.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import InvalidArgumentError
from .harness import BenchConfig, run_benchmark
from .report import format_table, plot_latencies, pyplot, write_json
from .scenarios import SCENARIOS

Number = TypeVar("Number", int, float)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `bench` subcommand to an argparse subparsers object; returns its parser."""
    bench = subparsers.add_parser(
        "bench",
        help="benchmark backend lists on a model, interleaved with ONNX Runtime",
        description=__doc__.split("\n\n")[0],
    )
    bench.add_argument("model", help="ONNX model file")
    bench.add_argument(
        "--backends",
        action="append",
        default=[],
        metavar="LIST",
        help="comma-separated backends in priority order (one session); repeat "
        "to benchmark several lists. Default: the default chain",
    )
    bench.add_argument(
        "--compare",
        metavar="ort",
        help="also run raw onnxruntime (CPU EP), interleaved, and report per-pair ratios xinrt/ort",
    )
    bench.add_argument("--scenario", default="single-stream", help=" | ".join(SCENARIOS))
    bench.add_argument("--threads", default="0", help="intra-op threads (0: backend default)")
    bench.add_argument("--batch", help="samples per query (multi-stream/offline: default 8)")
    bench.add_argument("--duration", metavar="S", help="seconds of measured rounds (default 10)")
    bench.add_argument("--iterations", metavar="N", help="measured rounds per target")
    bench.add_argument("--warmup", default="2", metavar="N", help="unmeasured rounds (default 2)")
    bench.add_argument(
        "--concurrency",
        default="2",
        metavar="N",
        help="threads calling run on one session (offline, server; default 2)",
    )
    bench.add_argument("--qps", help="server: Poisson arrival rate, queries per second")
    bench.add_argument(
        "--target-latency-ms",
        default="100",
        help="server: the p99 latency to stay under (default 100)",
    )
    bench.add_argument(
        "--accuracy", action="store_true", help="check outputs against the reference backend"
    )
    bench.add_argument(
        "--settle-ms",
        default="50",
        help="idle ms before each round when targets take turns, so one runtime's spinning "
        "threads do not slow the next (default 50)",
    )
    bench.add_argument(
        "--precision",
        default="",
        help="SessionOptions.precision of every xinrt target: fp32, fp16, bf16 or int8 "
        "(default: each backend's own); with --accuracy, e.g. bf16 wants --rtol 1e-2",
    )
    bench.add_argument("--rtol", default="1e-3", help="accuracy: relative tolerance")
    bench.add_argument("--atol", default="1e-4", help="accuracy: absolute tolerance")
    bench.add_argument("--seed", default="0", help="seed of the random inputs")
    bench.add_argument(
        "--dim",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="value of a symbolic input dimension other than the batch",
    )
    bench.add_argument("--json", metavar="FILE", help="write the result document (see xinrt.bench)")
    bench.add_argument("--plot", metavar="FILE.png", help="latency distribution chart (matplotlib)")
    bench.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (shown only when stderr is a terminal)",
    )
    bench.set_defaults(func=cmd_bench)
    return bench


def _number(option: str, text: str | None, kind: Callable[[str], Number]) -> Number | None:
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise InvalidArgumentError(f"{option} wants {what}, got {text!r}") from None


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    """A validated BenchConfig from parsed `bench` arguments (InvalidArgumentError if bad)."""
    from ..cli_args import dims_arg

    if args.compare not in (None, "ort"):
        raise InvalidArgumentError(f"--compare knows only 'ort', got {args.compare!r}")
    lists = []
    for text in args.backends:
        chain = [b.strip() for b in text.split(",") if b.strip()]
        if not chain:
            raise InvalidArgumentError(f"--backends wants names like cpu,ort, got {text!r}")
        lists.append(chain)
    config = BenchConfig(
        model=args.model,
        backend_lists=lists or [[]],
        compare_ort=args.compare == "ort",
        scenario=args.scenario,
        threads=_number("--threads", args.threads, int) or 0,
        batch=_number("--batch", args.batch, int),
        iterations=_number("--iterations", args.iterations, int),
        duration_s=_number("--duration", args.duration, float),
        warmup=_number("--warmup", args.warmup, int) or 0,
        concurrency=_number("--concurrency", args.concurrency, int) or 0,
        qps=_number("--qps", args.qps, float),
        target_latency_ms=_number("--target-latency-ms", args.target_latency_ms, float) or 0.0,
        accuracy=args.accuracy,
        rtol=_number("--rtol", args.rtol, float) or 0.0,
        atol=_number("--atol", args.atol, float) or 0.0,
        seed=_number("--seed", args.seed, int) or 0,
        dims=dims_arg(args.dim),
        precision=args.precision,
        progress=not args.no_progress and sys.stderr.isatty(),
        settle_ms=_number("--settle-ms", args.settle_ms, float) or 0.0,
    )
    config.validate()
    if args.plot and not str(args.plot).lower().endswith(".png"):
        raise InvalidArgumentError(f"--plot writes a PNG; give a FILE.png, got {args.plot!r}")
    return config


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark, print the table, write --json and --plot. Exit 1 when no target ran
    or an --accuracy check failed."""
    config = config_from_args(args)
    if args.plot:
        pyplot()  # fail before a long run, not after it
    document = run_benchmark(config)
    document["command"] = _command_line()
    print(format_table(document))
    if args.json:
        write_json(document, args.json)
        print(f"wrote {args.json}")
    if args.plot:
        plot_latencies(document, args.plot)
        print(f"wrote {args.plot}")
    ran = [r for r in document["results"] if r["status"] == "ok"]
    failed = [r["name"] for r in ran if r["accuracy"] is not None and not r["accuracy"]["passed"]]
    if failed:
        print(f"accuracy check failed for: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed or not ran else 0


def _command_line() -> str | None:
    """How this process was started, when it was started as `xinrt ... bench ...`."""
    if "bench" not in sys.argv[1:]:
        return None
    return " ".join(["xinrt", *(_quoted(a) for a in sys.argv[1:])])


def _quoted(text: str) -> str:
    return text if text and all(c.isalnum() or c in "-_.,=/:+" for c in text) else repr(text)
