"""xinrt cpu / ORT latency ratios for LSTM and GRU models, interleaved A B A B in one process.

    .venv/bin/python bench/recurrent.py --threads 1,2 --runs 21

Models (seq 100, float32 weights as initializers): one- and two-layer LSTM/GRU stacks with
hidden 128 or 256 at batch 1 and 8, and a bidirectional LSTM. Each round times one ORT run and
one xinrt run (order alternating); the figure is the median of per-round ratios after warm-up,
plus each side's median latency in ms. Outputs are checked against ORT before timing.

Each timed run starts after --gap-ms of idle time: both runtimes' thread pools spin-wait for a
while after a run, and in a back-to-back interleave one runtime's spinning workers would steal
cores from the other's run. ORT's intra-op workers spin about 30 ms after each run (measured:
32 ms of process CPU time in a 50 ms sleep after a run), xinrt's 0.5 ms, so the default gap of
50 ms (the `xinrt bench` harness's settle time) lets both go idle; with a gap shorter than 30 ms
ORT's spinning worker shares the 2 cores with xinrt's run (on this 2-core VM: 2-thread ratios
of 1.0-2.4 at --gap-ms 5 against 0.85-1.03 at 50). Streaming edge models (one call per audio
frame) see such idle gaps anyway.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from interleave import interleaved_ratio
from onnx import helper, numpy_helper

import xinrt


@dataclass(frozen=True)
class RecurrentCase:
    """A stack of `layers` recurrent nodes over X [seq, batch, input]."""

    op: str  # "LSTM" or "GRU"
    hidden: int
    batch: int
    layers: int = 1
    bidirectional: bool = False
    seq: int = 100
    input_size: int = 64

    @property
    def name(self) -> str:
        d = "_bidir" if self.bidirectional else ""
        return f"{self.op.lower()}{d}_h{self.hidden}_b{self.batch}_l{self.layers}"


CASES = [
    RecurrentCase("LSTM", 128, 1),
    RecurrentCase("LSTM", 128, 8),
    RecurrentCase("LSTM", 256, 1, layers=2),
    RecurrentCase("LSTM", 256, 8),
    RecurrentCase("LSTM", 128, 1, bidirectional=True),
    RecurrentCase("GRU", 128, 1),
    RecurrentCase("GRU", 256, 1),
    RecurrentCase("GRU", 256, 8, layers=2),
]


def build_model(case: RecurrentCase) -> onnx.ModelProto:
    """The case as an ONNX model with seeded random weights (scaled like a trained layer)."""
    rng = np.random.default_rng(7)
    gates = 4 if case.op == "LSTM" else 3
    dirs = 2 if case.bidirectional else 1
    nodes, inits = [], []
    x, width = "x", case.input_size
    for layer in range(case.layers):
        scale = 1.0 / np.sqrt(case.hidden)
        for name, shape in (
            ("w", (dirs, gates * case.hidden, width)),
            ("r", (dirs, gates * case.hidden, case.hidden)),
            ("b", (dirs, 2 * gates * case.hidden)),
        ):
            value = (rng.uniform(-1, 1, size=shape) * scale).astype(np.float32)
            inits.append(numpy_helper.from_array(value, f"{name}{layer}"))
        y = f"y{layer}"
        attrs: dict[str, Any] = {"hidden_size": case.hidden}
        if case.bidirectional:
            attrs["direction"] = "bidirectional"
        nodes.append(
            helper.make_node(case.op, [x, f"w{layer}", f"r{layer}", f"b{layer}"], [y], **attrs)
        )
        # [seq, dirs, batch, hidden] -> [seq, batch, dirs * hidden] for the next layer.
        nodes.append(helper.make_node("Transpose", [y], [f"t{layer}"], perm=[0, 2, 1, 3]))
        inits.append(numpy_helper.from_array(np.array([0, 0, -1], np.int64), f"shape{layer}"))
        x = f"s{layer}"
        nodes.append(helper.make_node("Reshape", [f"t{layer}", f"shape{layer}"], [x]))
        width = dirs * case.hidden
    graph = helper.make_graph(
        nodes,
        case.name,
        [
            helper.make_tensor_value_info(
                "x", onnx.TensorProto.FLOAT, [case.seq, case.batch, case.input_size]
            )
        ],
        [helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, [case.seq, case.batch, width])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def measure(
    case: RecurrentCase, threads: int, runs: int, warmup: int, gap_s: float
) -> tuple[float, float, float]:
    """(median ratio, median xinrt ms, median ORT ms) for one case."""
    model = build_model(case)
    feeds = {
        "x": np.random.default_rng(1)
        .standard_normal((case.seq, case.batch, case.input_size))
        .astype(np.float32)
    }
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    o = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    x = xinrt.InferenceSession(
        model, xinrt.SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
    )
    assert {n.backend for n in x.placement.nodes} == {"cpu"}, str(x.placement)
    for a, b in zip(o.run(None, feeds), x.run(None, feeds)):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-4)
    for _ in range(warmup):
        o.run(None, feeds)
        x.run(None, feeds)
    return interleaved_ratio(x, o, feeds, runs, gap_s)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--runs", type=int, default=21)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--gap-ms", type=float, default=50.0, help="idle time before each timed run")
    a = p.parse_args()
    wanted = set(filter(None, a.cases.split(",")))
    cases = [c for c in CASES if not wanted or c.name in wanted]
    print(f"{'case':<26} {'threads':>7} {'xinrt ms':>9} {'ORT ms':>8} {'ratio':>6}")
    for threads in [int(t) for t in a.threads.split(",")]:
        for case in cases:
            ratio, tx, to = measure(case, threads, a.runs, a.warmup, a.gap_ms / 1e3)
            print(f"{case.name:<26} {threads:>7} {tx:>9.2f} {to:>8.2f} {ratio:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
