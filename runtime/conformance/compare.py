"""`xinrt compare`: run a model on two backend chains, and find the first node where they diverge.

    xinrt compare MODEL --backends cpu --against reference [--seed N] [--dim N=1] [--input x=a.npy]

Both sides get the same seeded random inputs (`xinrt.cli_args.random_feeds`). Each output is
compared by max abs / max rel error and cosine similarity; when one is out of tolerance, a copy of
the model that also returns every node's outputs (types from onnx shape inference) runs on both
sides and the first node, in topological order, whose output differs is named.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import onnx

from ..errors import InvalidArgumentError
from ..model import ModelSource, load_model


@dataclass
class TensorDiff:
    """How one tensor differs between the two sides."""

    name: str
    shape: list[int]
    max_abs_error: float
    max_rel_error: float
    cosine: float
    close: bool
    note: str = ""


@dataclass
class Divergence:
    """The first node (topological order) with an output out of tolerance."""

    node: str
    op_type: str
    output: TensorDiff
    inputs_agree: bool  # True: every input was within tolerance, so this node is the culprit
    position: int  # index of the node in topological order
    nodes: int  # nodes in the graph


@dataclass
class CompareReport:
    """Per-output differences between `backends` and `against`, and where they start."""

    model: str
    backends: list[str]
    against: list[str]
    rtol: float
    atol: float
    outputs: list[TensorDiff]
    first_divergence: Divergence | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def agree(self) -> bool:
        """Every output within tolerance."""
        return all(d.close for d in self.outputs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["agree"] = self.agree
        return data

    def __str__(self) -> str:
        lines = [
            f"compare {self.model}: {','.join(self.backends)} against "
            f"{','.join(self.against)} (rtol {self.rtol:g}, atol {self.atol:g})",
            f"  {'output':<28} {'shape':<18} {'max abs':>10} {'max rel':>10} "
            f"{'cosine':>9}  verdict",
        ]
        for d in self.outputs:
            lines.append(
                f"  {d.name:<28} {str(d.shape):<18} {d.max_abs_error:>10.3g} "
                f"{d.max_rel_error:>10.3g} {d.cosine:>9.6f}  "
                f"{'ok' if d.close else 'DIFFERS'}{' ' + d.note if d.note else ''}"
            )
        div = self.first_divergence
        if div is not None:
            o = div.output
            cause = (
                "its inputs agree, so this node computes differently"
                if div.inputs_agree
                else "its inputs already differ (a value no node output explains)"
            )
            lines.append(
                f"  first divergent node: {div.node} ({div.op_type}), node "
                f"{div.position + 1} of {div.nodes}, output {o.name}: max abs "
                f"{o.max_abs_error:.3g}, max rel {o.max_rel_error:.3g}, cosine "
                f"{o.cosine:.6f}; {cause}"
            )
        elif not self.agree:
            lines.append("  no node output diverges on its own (see notes)")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def diff_tensors(name: str, expected: Any, actual: Any, rtol: float, atol: float) -> TensorDiff:
    """Compare two values: errors over finite elements, cosine similarity, allclose verdict."""
    want, got = np.asarray(expected), np.asarray(actual)
    if want.shape != got.shape:
        return TensorDiff(
            name,
            list(got.shape),
            float("inf"),
            float("inf"),
            0.0,
            False,
            f"shape {list(got.shape)} vs {list(want.shape)}",
        )
    if want.dtype.kind not in "fciub" or got.dtype.kind not in "fciub":
        same = bool(np.array_equal(want, got))
        return TensorDiff(
            name,
            list(got.shape),
            0.0 if same else float("inf"),
            0.0 if same else float("inf"),
            1.0 if same else 0.0,
            same,
            "" if same else f"{want.dtype} values differ",
        )
    w = want.astype(np.float64)
    g = got.astype(np.float64)
    with np.errstate(all="ignore"):
        close = bool(np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True))
        diff = np.abs(g - w)
        finite = np.isfinite(diff)
        max_abs = float(diff[finite].max()) if finite.any() else 0.0
        nonzero = finite & (w != 0)
        max_rel = float((diff[nonzero] / np.abs(w[nonzero])).max()) if nonzero.any() else 0.0
        wf, gf = np.nan_to_num(w.ravel()), np.nan_to_num(g.ravel())
        norm = float(np.linalg.norm(wf) * np.linalg.norm(gf))
        cosine = float(np.dot(wf, gf) / norm) if norm > 0 else (1.0 if close else 0.0)
    note = "" if want.dtype == got.dtype else f"dtype {got.dtype} vs {want.dtype}"
    return TensorDiff(name, list(got.shape), max_abs, max_rel, cosine, close, note)


def _session(model: Any, backends: Sequence[str]) -> Any:
    from ..session import InferenceSession

    return InferenceSession(model, backends=list(backends))


def _run(session: Any, feeds: Mapping[str, np.ndarray]) -> dict[str, Any]:
    names = [o.name for o in session.get_outputs()]
    wanted = {i.name for i in session.get_inputs()}
    return dict(zip(names, session.run(None, {k: v for k, v in feeds.items() if k in wanted})))


def compare_backends(
    model: ModelSource,
    backends: Sequence[str],
    against: Sequence[str] = ("reference",),
    *,
    seed: int = 0,
    dims: Mapping[str, int] | None = None,
    inputs: Mapping[str, np.ndarray] | None = None,
    rtol: float = 1e-3,
    atol: float = 1e-5,
    bisect: bool = True,
) -> CompareReport:
    """Run the model on both chains with the same inputs; bisect to the first divergent node."""
    from ..cli_args import random_feeds

    if not backends or not against:
        raise InvalidArgumentError("compare needs a backend chain on each side")
    loaded = load_model(model)
    proto = loaded.proto  # nodes named, external data loaded: the names placement reports use
    side_a, side_b = _session(proto, backends), _session(proto, against)
    feeds = random_feeds(side_a, seed, dict(dims or {}))
    feeds.update(inputs or {})
    out_a, out_b = _run(side_a, feeds), _run(side_b, feeds)
    report = CompareReport(
        loaded.label,
        list(backends),
        list(against),
        rtol,
        atol,
        [diff_tensors(n, out_b[n], out_a[n], rtol, atol) for n in out_b],
    )
    if not report.agree and bisect:
        _bisect(report, proto, feeds)
    return report


def _bisect(report: CompareReport, proto: onnx.ModelProto, feeds: Mapping[str, np.ndarray]) -> None:
    instrumented, order = with_all_node_outputs(proto)
    try:
        values_a = _run(_session(instrumented, report.backends), feeds)
        values_b = _run(_session(instrumented, report.against), feeds)
    except Exception as exc:  # the copy may place differently; the output diffs still stand
        report.notes.append(
            f"bisection failed: {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        )
        return
    bad: set[str] = set()
    for position, node in enumerate(order):
        for name in node.output:
            if not name or name not in values_a or name not in values_b:
                continue
            if not _is_tensor(values_a[name]) or not _is_tensor(values_b[name]):
                continue
            diff = diff_tensors(name, values_b[name], values_a[name], report.rtol, report.atol)
            if diff.close:
                continue
            bad.add(name)
            if report.first_divergence is None:
                inputs_agree = not any(i in bad for i in node.input)
                report.first_divergence = Divergence(
                    node.name, node.op_type, diff, inputs_agree, position, len(order)
                )
    if report.first_divergence is None:
        report.notes.append(
            "with every node output exposed, no node output differs: the "
            "difference depends on fusion or placement of the original model"
        )


def _is_tensor(value: Any) -> bool:
    return isinstance(value, np.ndarray) or np.isscalar(value)


def topological_nodes(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """The graph's nodes in a topological order (stable: file order where it is already one)."""
    produced = {o for n in graph.node for o in n.output if o}
    ready = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    pending = list(graph.node)
    order: list[onnx.NodeProto] = []
    while pending:
        rest = []
        for node in pending:
            if all(not i or i in ready or i not in produced for i in node.input):
                order.append(node)
                ready.update(node.output)
            else:
                rest.append(node)
        if len(rest) == len(pending):  # a cycle (invalid model): keep file order for the rest
            order.extend(rest)
            break
        pending = rest
    return order


def with_all_node_outputs(proto: onnx.ModelProto) -> tuple[onnx.ModelProto, list[onnx.NodeProto]]:
    """A copy of the model whose graph also outputs every node output, and the node order.

    Added outputs start typeless (`make_empty_tensor_value_info`) and take the types onnx shape
    inference gives them; those it cannot type are left out (the checker wants a type).
    """
    copy = onnx.ModelProto()
    copy.CopyFrom(proto)
    existing = {o.name for o in copy.graph.output}
    order = topological_nodes(copy.graph)
    added = [name for node in order for name in node.output if name and name not in existing]
    known = {v.name: v for v in copy.graph.value_info}  # types load_model already inferred
    copy.graph.output.extend(
        known[n] if n in known else onnx.helper.make_empty_tensor_value_info(n) for n in added
    )
    try:
        copy = onnx.shape_inference.infer_shapes(copy)
    except Exception:  # inference is a best effort: untyped outputs are dropped below
        pass
    typed = [
        o for o in copy.graph.output if o.name in existing or o.type.WhichOneof("value") is not None
    ]
    del copy.graph.output[:]
    copy.graph.output.extend(typed)
    return copy, order


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `compare` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "compare", help="compare two backend chains on a model; name the first divergent node"
    )
    parser.add_argument("model")
    parser.add_argument("--backends", required=True, help="chain under test, e.g. cpu")
    parser.add_argument(
        "--against", default="reference", help="chain to trust (default: reference)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dim", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy")
    parser.add_argument("--rtol", type=float, default=1e-3)
    parser.add_argument("--atol", type=float, default=1e-5)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=cmd_compare)
    return parser


def cmd_compare(args: argparse.Namespace) -> int:
    """Print the comparison; exit status 0 when the chains agree, 1 when they do not."""
    from ..cli_args import backends_arg, dims_arg, load_inputs

    backends, against = backends_arg(args.backends), backends_arg(args.against)
    if not backends or not against:
        raise InvalidArgumentError("--backends and --against each need at least one backend")
    if args.rtol < 0 or args.atol < 0:
        raise InvalidArgumentError(f"--rtol and --atol must be >= 0, got {args.rtol}, {args.atol}")
    report = compare_backends(
        args.model,
        backends,
        against,
        seed=args.seed,
        dims=dims_arg(args.dim),
        inputs=load_inputs(args.input),
        rtol=args.rtol,
        atol=args.atol,
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return 0 if report.agree else 1
