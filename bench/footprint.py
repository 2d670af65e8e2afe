"""Footprint of a lean xinrt beside ONNX Runtime: wheel size, import time, first-session time,
peak RSS.

Each measurement is a fresh interpreter (so imports and page faults are real): it imports the
runtime, creates a session for one model and runs it once, and reports its times and
`ru_maxrss`. xinrt runs with `backends=["cpu"]` (what a lean install without ONNX Runtime uses)
and ORT with its CPU EP, both at the same thread count, interleaved, median of `--repeat` runs.

    python bench/footprint.py                       # resnet50 and squeezenet, 5 rounds, 2 threads
    python bench/footprint.py --wheels              # also build xinrt's wheel and fetch ORT's
    python bench/footprint.py --json bench/footprint.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter: argv = runtime, model path, threads.
_PROBE = r"""
import json, sys, time
runtime, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
def status_kb(key):  # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0
t0 = time.perf_counter()
if runtime == "xinrt":
    import xinrt
    t1 = time.perf_counter()
    options = xinrt.SessionOptions()
    options.intra_op_num_threads = threads
    session = xinrt.InferenceSession(path, options, backends=["cpu"])
else:
    import onnxruntime as ort
    t1 = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
t2 = time.perf_counter()
import numpy as np
feeds = {}
rng = np.random.default_rng(0)
for i in session.get_inputs():
    shape = [d if isinstance(d, int) else 1 for d in i.shape]
    feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
session.run(None, feeds)
t3 = time.perf_counter()
print(json.dumps({
    "import_s": t1 - t0, "session_s": t2 - t1, "first_run_s": t3 - t2,
    "import_and_session_s": t2 - t0,
    "rss_after_run_mb": status_kb("VmRSS") / 1024,
    "peak_rss_mb": status_kb("VmHWM") / 1024,
    "modules": len(sys.modules),
}))
"""


def _probe(runtime: str, path: Path, threads: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, runtime, str(path), str(threads)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _write_models(names: list[str], folder: Path) -> dict[str, Path]:
    import onnx

    from xinrt.testing import randomized_light_model

    paths = {}
    for name in names:
        path = folder / f"{name}.onnx"
        onnx.save(randomized_light_model(name), path)
        paths[name] = path
    return paths


def measure(names: list[str], repeat: int, threads: int) -> dict[str, Any]:
    """Median of `repeat` interleaved fresh-process probes per model and runtime."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write_models(names, Path(tmp))
        for name, path in paths.items():
            runs: dict[str, list[dict[str, float]]] = {"xinrt": [], "onnxruntime": []}
            _probe("xinrt", path, threads)  # warm the page cache and xinrt's compile cache dir
            _probe("onnxruntime", path, threads)
            for _ in range(repeat):
                for runtime in runs:
                    runs[runtime].append(_probe(runtime, path, threads))
            results[name] = {
                runtime: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
                for runtime, rs in runs.items()
            }
            results[name]["model_mb"] = path.stat().st_size / 2**20
    return results


def wheel_sizes() -> dict[str, float]:
    """MB of xinrt's wheel (built here) and of the installed onnxruntime's wheel (downloaded)."""
    import onnxruntime

    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", tmp],
            check=True,
        )
        spec = f"onnxruntime=={onnxruntime.__version__}"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", spec, "--no-deps", "-q", "-d", tmp],
            check=True,
        )
        for wheel in Path(tmp).glob("*.whl"):
            key = "xinrt" if wheel.name.startswith("xinrt") else "onnxruntime"
            sizes[key] = wheel.stat().st_size / 2**20
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="resnet50,squeezenet")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wheels", action="store_true", help="build/fetch the wheels too")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)

    document: dict[str, Any] = {
        "threads": args.threads,
        "models": measure(args.models.split(","), args.repeat, args.threads),
    }
    if args.wheels:
        document["wheel_mb"] = wheel_sizes()
    keys = ("import_s", "session_s", "import_and_session_s", "first_run_s", "peak_rss_mb")
    print(f"{'model':12} {'runtime':12} " + " ".join(f"{k:>21}" for k in keys))
    for name, by_runtime in document["models"].items():
        for runtime in ("xinrt", "onnxruntime"):
            row = by_runtime[runtime]
            print(f"{name:12} {runtime:12} " + " ".join(f"{row[k]:21.3f}" for k in keys))
        x, o = by_runtime["xinrt"], by_runtime["onnxruntime"]
        print(
            f"{name:12} {'xinrt/ORT':12} "
            + " ".join(f"{x[k] / o[k]:21.2f}" if o[k] else f"{'-':>21}" for k in keys)
        )
    if "wheel_mb" in document:
        print("wheel MB: " + ", ".join(f"{k} {v:.1f}" for k, v in document["wheel_mb"].items()))
    if args.json:
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
