"""Control flow on the native backend: a decoder-like Loop and an If model, xinrt `cpu` vs ORT.

    .venv/bin/python bench/control_flow.py [--repeats 15] [--block 20]

Both sessions run the same model with the same intra-op thread count (1, then 2). Each repeat
times one block of runs per runner, the runners interleaved; the figure is the median per-run
time over the repeats, after a warm-up block; ratio = xinrt / ORT (below 1: xinrt faster).

- `decoder_loop`: 32 steps of a greedy-decoder-like body (hidden 256, vocabulary 1000): logits
  = h W_out, a soft embedding softmax(logits) E (ArgMax is not native yet), h = tanh(h W_h +
  emb W_e + b); the logits of every step are a scan output, the weights outer-scope initializers.
- `loop_overhead`: 1,000 iterations of one Add on [1, 16]: Loop's own per-iteration cost.
- `if_mlp`: If on sum(x) > 0 choosing one of two 2-layer MLPs on x [8, 256].

Preliminary, on 2 cores shared with other jobs (noisy; rerun on a quiet machine):
    decoder_loop  1 thread : xinrt 6.59 ms, ORT 2.62 ms, ratio 2.52
    decoder_loop  2 threads: xinrt 10.5 ms, ORT 4.03 ms, ratio 2.61
    loop_overhead 1 thread : xinrt 1.05 ms, ORT 1.05 ms, ratio 1.00
    loop_overhead 2 threads: xinrt 1.44 ms, ORT 1.29 ms, ratio 1.12
    if_mlp        1 thread : xinrt 0.0286 ms, ORT 0.0169 ms, ratio 1.69
    if_mlp        2 threads: xinrt 0.0276 ms, ORT 0.0176 ms, ratio 1.57
Loop's own cost per iteration is at parity (loop_overhead); decoder_loop and if_mlp are about as
much slower as their bodies run alone, outside control flow: the native MatMul has no GEMV path for
M = 1 (the decoder's [1, 256] rows) and trails ORT on small [8, 256] products.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

import xinrt

F, I64, BOOL = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL
Feeds = dict[str, np.ndarray]


def _weight(rng: np.random.Generator, name: str, shape: tuple[int, ...]) -> onnx.TensorProto:
    scale = 1.0 / np.sqrt(shape[0])
    return numpy_helper.from_array((scale * rng.standard_normal(shape)).astype(np.float32), name)


def decoder_loop(hidden: int = 256, vocab: int = 1000, steps: int = 32) -> tuple[bytes, Feeds]:
    """A greedy-decoder-like Loop: state h, logits scanned out, weights read from outer scope."""
    vi = helper.make_tensor_value_info
    body = helper.make_graph(
        [
            helper.make_node("MatMul", ["h_in", "W_out"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
            helper.make_node("MatMul", ["probs", "E"], ["emb"]),
            helper.make_node("MatMul", ["h_in", "W_h"], ["hh"]),
            helper.make_node("MatMul", ["emb", "W_e"], ["he"]),
            helper.make_node("Add", ["hh", "he"], ["s"]),
            helper.make_node("Add", ["s", "b"], ["pre"]),
            helper.make_node("Tanh", ["pre"], ["h_out"]),
            helper.make_node("ReduceSum", ["h_out"], ["total"], keepdims=0),
            helper.make_node("Less", ["total", "stop"], ["cond_out"]),  # an end-token stand-in
            helper.make_node("Identity", ["logits"], ["logits_scan"]),
        ],
        "decode_step",
        [vi("i", I64, []), vi("cond_in", BOOL, []), vi("h_in", F, [1, hidden])],
        [vi("cond_out", BOOL, []), vi("h_out", F, [1, hidden]), vi("logits_scan", F, [1, vocab])],
    )
    rng = np.random.default_rng(0)
    weights = [
        _weight(rng, "W_out", (hidden, vocab)),
        _weight(rng, "E", (vocab, hidden)),
        _weight(rng, "W_h", (hidden, hidden)),
        _weight(rng, "W_e", (hidden, hidden)),
        _weight(rng, "b", (hidden,)),
        numpy_helper.from_array(np.array(1e9, np.float32), "stop"),
    ]
    graph = helper.make_graph(
        [helper.make_node("Loop", ["M", "", "h0"], ["h", "all_logits"], body=body)],
        "decoder_loop",
        [vi("M", I64, []), vi("h0", F, [1, hidden])],
        [vi("h", F, [1, hidden]), vi("all_logits", F, [None, 1, vocab])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    feeds: Feeds = {
        "M": np.array(steps, np.int64),
        "h0": rng.standard_normal((1, hidden)).astype(np.float32),
    }
    return model.SerializeToString(), feeds


def loop_overhead(steps: int = 1000) -> tuple[bytes, Feeds]:
    """The per-iteration cost of Loop itself: a body of one Add on [1, 16] (x from outside)."""
    vi = helper.make_tensor_value_info
    body = helper.make_graph(
        [
            helper.make_node("Add", ["h_in", "x"], ["h_out"]),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "add_step",
        [vi("i", I64, []), vi("cond_in", BOOL, []), vi("h_in", F, [1, 16])],
        [vi("cond_out", BOOL, []), vi("h_out", F, [1, 16])],
    )
    graph = helper.make_graph(
        [helper.make_node("Loop", ["M", "", "h0"], ["h"], body=body)],
        "loop_overhead",
        [vi("M", I64, []), vi("h0", F, [1, 16]), vi("x", F, [1, 16])],
        [vi("h", F, [1, 16])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    rng = np.random.default_rng(2)
    feeds: Feeds = {
        "M": np.array(steps, np.int64),
        "h0": rng.standard_normal((1, 16)).astype(np.float32),
        "x": rng.standard_normal((1, 16)).astype(np.float32),
    }
    return model.SerializeToString(), feeds


def if_mlp(batch: int = 8, width: int = 256) -> tuple[bytes, Feeds]:
    """If on sum(x) > 0 choosing one of two 2-layer MLPs (weights from the outer scope)."""
    vi = helper.make_tensor_value_info

    def mlp(prefix: str) -> onnx.GraphProto:
        return helper.make_graph(
            [
                helper.make_node("MatMul", ["x", f"{prefix}1"], [f"{prefix}_a"]),
                helper.make_node("Relu", [f"{prefix}_a"], [f"{prefix}_r"]),
                helper.make_node("MatMul", [f"{prefix}_r", f"{prefix}2"], [f"{prefix}_y"]),
            ],
            prefix,
            [],
            [vi(f"{prefix}_y", F, [batch, width])],
        )

    rng = np.random.default_rng(1)
    weights = [_weight(rng, n, (width, width)) for n in ("then1", "then2", "else1", "else2")]
    weights.append(numpy_helper.from_array(np.array(0, np.float32), "zero"))
    graph = helper.make_graph(
        [
            helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0),
            helper.make_node("Greater", ["total", "zero"], ["cond"]),
            helper.make_node(
                "If", ["cond"], ["y"], then_branch=mlp("then"), else_branch=mlp("else")
            ),
        ],
        "if_mlp",
        [vi("x", F, [batch, width])],
        [vi("y", F, [batch, width])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString(), {"x": rng.standard_normal((batch, width)).astype(np.float32)}


def _per_run(run: Callable[[], object], count: int) -> float:
    # 50 ms idle and one unrecorded run first, as the `xinrt bench` harness does: ORT's workers
    # spin ~30 ms after a run and would otherwise share the cores with the next block.
    time.sleep(0.05)
    run()
    start = time.perf_counter()
    for _ in range(count):
        run()
    return (time.perf_counter() - start) / count


def compare(name: str, model: bytes, feeds: Feeds, threads: int, repeats: int, block: int) -> None:
    """Median per-run time of xinrt `cpu` and ORT, interleaved, at one thread count."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    raw = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    session = xinrt.InferenceSession(
        model, xinrt.SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
    )
    if {n.backend for n in session.placement.nodes} != {"cpu"}:
        raise SystemExit(f"{name}: not every node runs on cpu:\n{session.placement}")
    expected, actual = raw.run(None, feeds), session.run(None, feeds)
    for e, a in zip(expected, actual):
        np.testing.assert_allclose(a, e, rtol=1e-3, atol=1e-4)
    runners = {
        "xinrt": lambda: session.run(None, feeds),
        "ORT": lambda: raw.run(None, feeds),
    }
    for run in runners.values():
        _per_run(run, block)  # warm-up
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(repeats):
        for key, run in runners.items():
            times[key].append(_per_run(run, block))
    ours, theirs = statistics.median(times["xinrt"]), statistics.median(times["ORT"])
    plural = "thread " if threads == 1 else "threads"
    print(
        f"{name:<13} {threads} {plural}: xinrt {ours * 1e3:.3g} ms, ORT {theirs * 1e3:.3g} ms, "
        f"ratio {ours / theirs:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed blocks per runner")
    parser.add_argument("--block", type=int, default=20, help="runs per block")
    args = parser.parse_args()
    models = {"decoder_loop": decoder_loop(), "loop_overhead": loop_overhead(), "if_mlp": if_mlp()}
    for name, (model, feeds) in models.items():
        for threads in (1, 2):
            compare(name, model, feeds, threads, args.repeats, args.block)


if __name__ == "__main__":
    main()
