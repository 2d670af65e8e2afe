"""The `xinrt` command: run, info, backends, placement, exec, demo, bench, conformance, compare,
corpus."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .cli_args import backends_arg, dims_arg, load_inputs, random_feeds
from .errors import XinrtError
from .options import PLACEMENTS


def _session(args: argparse.Namespace) -> Any:
    from .options import SessionOptions
    from .session import InferenceSession

    options = SessionOptions(intra_op_num_threads=getattr(args, "threads", 0) or 0)
    if getattr(args, "placement", None):
        options.placement = args.placement
    for name, value in dims_arg(getattr(args, "dim", [])).items():
        options.add_free_dimension_override_by_name(name, value)  # what "fastest" times with
    return InferenceSession(args.model, options, backends=backends_arg(args.backends))


def cmd_run(args: argparse.Namespace) -> int:
    session = _session(args)
    given = load_inputs(args.input)
    feeds = {**random_feeds(session, args.seed, dims_arg(args.dim), skip=list(given)), **given}
    start = time.perf_counter()
    outputs = session.run(None, feeds)
    elapsed = time.perf_counter() - start
    print(session.placement)
    for arg, value in zip(session.get_outputs(), outputs):
        if not isinstance(value, np.ndarray):  # a sequence (ZipMap's list of dicts), a map
            count = f"{len(value)} items" if isinstance(value, (list, dict)) else repr(value)
            print(f"output {arg.name}: {arg.type}, {count}")
            continue
        print(
            f"output {arg.name}: shape {list(value.shape)} dtype {value.dtype} "
            f"mean {float(np.mean(value)) if value.size and value.dtype.kind in 'fiu' else 0:.6g}"
        )
        if args.output_dir:
            out = Path(args.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            np.save(out / (arg.name.replace("/", "_") + ".npy"), value)
    print(f"run: {elapsed * 1e3:.2f} ms")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .ml_types import map_type_of, proto_type_string
    from .model import load_model

    loaded = load_model(args.model)
    proto = loaded.proto
    graph = loaded.ir_model.graph
    print(f"model: {loaded.label}")
    print(
        f"  ir_version {proto.ir_version}, producer {proto.producer_name or '-'} "
        f"{proto.producer_version}, opsets "
        + ", ".join(f"{o.domain or 'ai.onnx'}:{o.version}" for o in proto.opset_import)
    )
    ops: dict[str, int] = {}
    for node in graph:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    print(
        f"  {len(graph)} nodes, {len(graph.initializers)} initializers; ops: "
        + ", ".join(f"{k} x{v}" for k, v in sorted(ops.items()))
    )
    for kind, values in (("input", graph.inputs), ("output", graph.outputs)):
        for v in values:
            if v.name in graph.initializers:
                continue
            map_type = map_type_of(v)  # onnx_ir does not hold map types (ml_types)
            if map_type is not None:
                print(f"  {kind} {v.name}: {proto_type_string(map_type)}")
                continue
            print(f"  {kind} {v.name}: {v.type} {list(v.shape) if v.shape is not None else '?'}")
    return 0


def cmd_backends(args: argparse.Namespace) -> int:
    from . import backend_info

    info = backend_info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    for name, entry in info.items():
        if entry["available"]:
            devices = "; ".join(
                f"{d['name']} [{d['kind']}] {d['detail']}" for d in entry["devices"]
            )
            print(f"{name:<14} available    {devices}")
        else:
            print(f"{name:<14} unavailable  {entry['reason']}")
    return 0


def cmd_placement(args: argparse.Namespace) -> int:
    session = _session(args)
    report = session.placement
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.explain() if args.explain else report)
    return 0


def cmd_exec(args: argparse.Namespace) -> int:
    import os

    from .drop_in import exec_command

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.placement:
        os.environ["XINRT_PLACEMENT"] = args.placement  # the program's sessions inherit it
    return exec_command(command, args.backends, args.strict, args.report)


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(threads=args.threads, runs=args.runs, simulators=args.simulators)


# Subcommands with modules of their own, in the order `xinrt --help` lists them. Some import a
# lot (onnx's backend test data, the model corpus), so a command line registers only the one it
# runs: all of them when it names none of the commands (--help, a typo: argparse lists them all).
_EXTENSIONS = {
    "bench": ".bench.cli",
    "conformance": ".conformance.cli",
    "compare": ".conformance.compare",
    "backend": ".worker.cli",
    "cache": ".compile_cache",
    "serve": ".serve.cli",
    "corpus": ".corpus.cli",
}


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand a command line runs (its first word that is not an option); None when
    it asks for the top-level help first."""
    for word in argv:
        if word in ("-h", "--help"):
            return None
        if not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `xinrt` parser; given the subcommand about to run, only that one of _EXTENSIONS."""
    parser = argparse.ArgumentParser(prog="xinrt", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a model on random or given inputs")
    run.add_argument("model")
    run.add_argument("--backends", help="comma-separated, in priority order")
    run.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy")
    run.add_argument("--dim", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--threads", type=int, default=0)
    run.add_argument("--placement", choices=PLACEMENTS, help="default: fastest")
    run.add_argument("--output-dir")
    run.set_defaults(func=cmd_run)

    info = sub.add_parser("info", help="describe a model")
    info.add_argument("model")
    info.set_defaults(func=cmd_info)

    backends = sub.add_parser("backends", help="list backends and their devices")
    backends.add_argument("--json", action="store_true")
    backends.set_defaults(func=cmd_backends)

    placement = sub.add_parser("placement", help="show what would run where, and why")
    placement.add_argument("model")
    placement.add_argument("--backends")
    placement.add_argument("--threads", type=int, default=0)
    placement.add_argument(
        "--dim", action="append", default=[], metavar="NAME=VALUE", help="fix a symbolic dim"
    )
    placement.add_argument("--placement", choices=PLACEMENTS, help="default: fastest")
    placement.add_argument(
        "--explain", action="store_true", help="each candidate's measured time, and why it won"
    )
    placement.add_argument("--json", action="store_true")
    placement.set_defaults(func=cmd_placement)

    run_exec = sub.add_parser(
        "exec", help="run a program written for onnxruntime on xinrt: xinrt exec -- python app.py"
    )
    run_exec.add_argument("--backends", help="backends for every session the program creates")
    run_exec.add_argument("--strict", action="store_true", help="no fallback in any session")
    run_exec.add_argument("--report", action="store_true", help="placement summary at exit")
    run_exec.add_argument(
        "--placement", choices=PLACEMENTS, help="for every session the program creates"
    )
    run_exec.add_argument("command", nargs=argparse.REMAINDER)
    run_exec.set_defaults(func=cmd_exec)

    demo = sub.add_parser("demo", help="the light ResNet-50 through every available backend")
    demo.add_argument("--threads", type=int, default=0)
    demo.add_argument("--runs", type=int, default=5)
    demo.add_argument("--simulators", action="store_true", help="also run NPU simulators (slow)")
    demo.set_defaults(func=cmd_demo)
    everything = command not in sub.choices and command not in _EXTENSIONS
    for name, module in _EXTENSIONS.items():
        if everything or command == name:
            importlib.import_module(module, __package__).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `xinrt` console script."""
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(_command_of(words)).parse_args(words)
    try:
        return int(args.func(args))
    except XinrtError as exc:
        if args.debug:
            raise
        print(f"xinrt: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
