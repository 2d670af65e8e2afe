"""int8 BERT-style encoder: xinrt's native `cpu` backend vs raw ONNX Runtime, same quantized model.

    .venv/bin/python bench/int8_encoder.py                      # QInt8 weights, 1 and 2 threads
    .venv/bin/python bench/int8_encoder.py --weight-type QUInt8 --threads 2 --duration 5

The model is the suite's encoder (`transformer_encoder(layers=4, hidden=256, heads=4,
sequence=128, batch=1)`, seeded weights) passed through
`onnxruntime.quantization.quantize_dynamic`. Each thread count is one `run_benchmark` with ORT
interleaved (A B A B ... after warm-up); the figure printed is the median of the per-pair ratios
xinrt time / ORT time (below 1 = xinrt faster). Before timing, the script checks that every node
is placed on `cpu` and prints the cosine similarity and max abs difference of the final output
against ORT on the same feeds.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic

from xinrt import InferenceSession, SessionOptions
from xinrt.bench.harness import BenchConfig, run_benchmark
from xinrt.bench.models import transformer_encoder


def quantized_encoder(workdir: Path, weight_type: str) -> Path:
    """The suite's encoder, dynamically quantized with `weight_type` weights; returns its path."""
    fp32 = workdir / "encoder_fp32.onnx"
    int8 = workdir / f"encoder_{weight_type.lower()}.onnx"
    onnx.save(transformer_encoder(layers=4, hidden=256, heads=4, sequence=128, batch=1), str(fp32))
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType[weight_type])
    return int8


def random_feeds(model: onnx.ModelProto, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded standard-normal float32 feeds for every (static-shaped) graph input."""
    rng = np.random.default_rng(seed)
    return {
        i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]).astype(
            np.float32
        )
        for i in model.graph.input
    }


def check_against_ort(path: Path, threads: int) -> dict[str, Any]:
    """Placement (every node on cpu) and closeness of the final output to ORT's."""
    model = onnx.load(str(path))
    session = InferenceSession(
        str(path), SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
    )
    off_cpu = [n.name for n in session.placement.nodes if n.backend != "cpu"]
    feeds = random_feeds(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    want = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]).run(
        None, feeds
    )[-1]
    got = session.run(None, feeds)[-1]
    a, b = got.ravel().astype(np.float64), want.ravel().astype(np.float64)
    cosine = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return {"off_cpu": off_cpu, "cosine": cosine, "max_abs_diff": float(np.abs(a - b).max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weight-type", default="QInt8", choices=["QInt8", "QUInt8"])
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per thread count")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = quantized_encoder(Path(tmp), args.weight_type)
        for threads in [int(t) for t in args.threads.split(",")]:
            check = check_against_ort(path, threads)
            config = BenchConfig(
                model=str(path),
                model_label=f"int8_encoder_{args.weight_type}",
                backend_lists=[["cpu"]],
                compare_ort=True,
                threads=threads,
                duration_s=args.duration,
                min_rounds=10,
                warmup=3,
            )
            document = run_benchmark(config)
            results = {r["kind"]: r for r in document["results"]}
            ratio = document["comparisons"][0]["ratio"]
            print(
                f"int8 encoder ({args.weight_type}) threads {threads}: "
                f"xinrt/ORT median ratio {ratio['median']:.2f} "
                f"[{ratio['min']:.2f}-{ratio['max']:.2f}]; "
                f"xinrt {results['xinrt']['latency_ms']['p50']:.2f} ms, "
                f"ORT {results['onnxruntime']['latency_ms']['p50']:.2f} ms; "
                f"cosine {check['cosine']:.6f}, max abs diff {check['max_abs_diff']:.3g}; "
                f"nodes off cpu: {len(check['off_cpu'])}",
                flush=True,
            )


if __name__ == "__main__":
    main()
