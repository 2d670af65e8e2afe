"""int8 ResNet-50 (QDQ, onnxruntime.quantization.quantize_static) on xinrt's native cpu backend vs
ONNX Runtime running the same int8 model: latency ratio at each thread count (interleaved runs,
median after warm-up) and output agreement.

    .venv/bin/python bench/int8_resnet.py --threads 1 2 --runs 20
    .venv/bin/python bench/int8_resnet.py --layers --threads 1   # per-QLinearConv-layer ratios

The float model is `xinrt.testing.randomized_light_model("resnet50")`; it is pre-processed with
`quant_pre_process` (BatchNorm folded into Conv, as ORT's quantization guide recommends; pass
--no-preprocess to quantize the raw graph) and quantized with quantize_static's defaults (QDQ,
uint8 activations, int8 weights, per tensor) on a few random calibration inputs. The quantized
model is cached under xinrt's cache dir (bench/). Agreement is reported as the cosine of the
outputs and of the logits (Softmax input), next to ORT's own int8 error: ORT with its QDQ fusions
vs ORT running every DQ -> float op -> Q unfused.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper, shape_inference

import xinrt
from xinrt.cache import cache_dir
from xinrt.testing import randomized_light_model, with_logits_output


def quantized_resnet50(calibration: int, preprocess: bool, seed: int) -> Path:
    """The QDQ int8 ResNet-50, built once and cached (quantize_static takes a while)."""
    from onnxruntime.quantization import CalibrationDataReader, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    tag = f"resnet50_s{seed}_c{calibration}_{'pre' if preprocess else 'raw'}_ort{ort.__version__}"
    path = cache_dir() / "bench" / f"int8_{tag}.onnx"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    model = randomized_light_model("resnet50", seed=seed)
    name = model.graph.input[0].name
    shape = [d.dim_value or 1 for d in model.graph.input[0].type.tensor_type.shape.dim]
    rng = np.random.default_rng(seed + 1)
    batches = [{name: rng.standard_normal(shape).astype(np.float32)} for _ in range(calibration)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.it, None)

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "fp32.onnx"
        onnx.save(model, str(src))
        if preprocess:
            pre = Path(tmp) / "pre.onnx"
            quant_pre_process(str(src), str(pre))
            src = pre
        out = Path(tmp) / "int8.onnx"
        quantize_static(str(src), str(out), Reader())
        out.replace(path)
    return path


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def ort_session(
    model: onnx.ModelProto, threads: int, optimize: bool = True
) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def interleaved_medians(
    sessions: dict[str, Any], feeds: dict[str, np.ndarray], runs: int, warmup: int
) -> dict[str, float]:
    """Median seconds per run of each session, alternating which one runs first.

    Each timed run follows 50 ms idle and one unrecorded run of the same session, as the
    `xinrt bench` harness does: ORT's workers spin ~30 ms after a run and would otherwise share
    the cores with whatever runs next.
    """
    times: dict[str, list[float]] = {label: [] for label in sessions}
    items = list(sessions.items())
    for i in range(warmup + runs):
        for label, s in items if i % 2 else items[::-1]:
            time.sleep(0.05)
            s.run(None, feeds)
            t0 = time.perf_counter()
            s.run(None, feeds)
            if i >= warmup:
                times[label].append(time.perf_counter() - t0)
    return {label: statistics.median(t) for label, t in times.items()}


def layer_profile(model: onnx.ModelProto, threads: int, runs: int, warmup: int) -> None:
    """Each distinct fused Conv of the QDQ model as a one-node QLinearConv (NCHW in and out, as
    ORT's own one-node QLinearConv): xinrt vs ORT per layer shape, weighted by its count."""
    inferred = shape_inference.infer_shapes(model)
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in list(inferred.graph.value_info) + list(inferred.graph.input)
    }
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    layers: dict[str, tuple[int, onnx.ModelProto, dict[str, np.ndarray]]] = {}
    rng = np.random.default_rng(0)
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        dq_x, dq_w = producer.get(node.input[0]), producer.get(node.input[1])
        if dq_x is None or dq_w is None or dq_x.input[0] not in shapes:
            continue
        x_shape, w = shapes[dq_x.input[0]], inits[dq_w.input[0]]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        key = f"{x_shape} w{list(w.shape)} {attrs.get('strides', [1, 1])}"
        if key in layers:
            layers[key] = (layers[key][0] + 1, layers[key][1], layers[key][2])
            continue
        names = ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"]
        values: list[np.ndarray] = [
            np.array(0.02, np.float32),
            np.array(128, np.uint8),
            w,
            np.asarray(inits[dq_w.input[1]], np.float32),
            np.asarray(inits[dq_w.input[2]]),
            np.array(0.05, np.float32),
            np.array(128, np.uint8),
            np.asarray(rng.integers(-1000, 1000, w.shape[0]), np.int32),
        ]
        graph = helper.make_graph(
            [helper.make_node("QLinearConv", names, ["y"], **attrs)],
            "layer",
            [helper.make_tensor_value_info("x", TensorProto.UINT8, x_shape)],
            [helper.make_tensor_value_info("y", TensorProto.UINT8, [None] * len(x_shape))],
            [numpy_helper.from_array(v, n) for n, v in zip(names[1:], values)],
        )
        one = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        feeds = {"x": rng.integers(0, 256, x_shape).astype(np.uint8)}
        layers[key] = (1, one, feeds)
    total = {"xinrt": 0.0, "ort": 0.0}
    for key, (count, one, feeds) in layers.items():
        sessions = {
            "xinrt": xinrt.InferenceSession(
                one, xinrt.SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
            ),
            "ort": ort_session(one, threads),
        }
        t = interleaved_medians(sessions, feeds, runs, warmup)
        for label in total:
            total[label] += t[label] * count
        print(
            f"x{count:2d} {key:38s} xinrt {t['xinrt'] * 1e3:7.3f} ms  "
            f"ort {t['ort'] * 1e3:7.3f} ms  ratio {t['xinrt'] / t['ort']:5.2f}"
        )
    print(
        f"all QLinearConv layers: xinrt {total['xinrt'] * 1e3:.2f} ms  "
        f"ort {total['ort'] * 1e3:.2f} ms  ratio {total['xinrt'] / total['ort']:.2f}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--calibration", type=int, default=4, help="random calibration inputs")
    p.add_argument("--no-preprocess", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layers", action="store_true", help="per-QLinearConv-layer profile instead")
    a = p.parse_args()

    path = quantized_resnet50(a.calibration, not a.no_preprocess, a.seed)
    if a.layers:
        for threads in a.threads:
            print(f"threads {threads}:")
            layer_profile(onnx.load(str(path)), threads, a.runs, a.warmup)
        return
    model = with_logits_output(onnx.load(str(path)))
    name = model.graph.input[0].name
    shape = [d.dim_value or 1 for d in model.graph.input[0].type.tensor_type.shape.dim]
    print(f"model {path.name}: {len(model.graph.node)} nodes")

    x = np.random.default_rng(a.seed + 2).standard_normal(shape).astype(np.float32)
    feeds = {name: x}
    for threads in a.threads:
        session = xinrt.InferenceSession(
            model, xinrt.SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
        )
        backends = [part.backend for part in session.placement.partitions]
        reference = ort_session(model, threads)
        got, want = session.run(None, feeds), reference.run(None, feeds)
        unfused = ort_session(model, threads, optimize=False).run(None, feeds)
        t = interleaved_medians({"xinrt": session, "ort": reference}, feeds, a.runs, a.warmup)
        tx, to = t["xinrt"], t["ort"]
        print(
            f"threads {threads}: partitions {backends}  xinrt {tx * 1e3:7.2f} ms  "
            f"ort {to * 1e3:7.2f} ms  ratio {tx / to:5.2f}"
        )
        for i, label in enumerate(("output", "logits")):
            print(
                f"  {label}: cosine xinrt~ort {cosine(got[i], want[i]):.6f}  "
                f"(ort~ort-unfused {cosine(want[i], unfused[i]):.6f})  "
                f"max |diff| {float(np.abs(got[i] - want[i]).max()):.4g}"
            )


if __name__ == "__main__":
    main()
