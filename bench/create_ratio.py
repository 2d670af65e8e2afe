"""Session creation against raw ONNX Runtime, cold and warm xinrt cache, interleaved.

    .venv/bin/python bench/create_ratio.py --models resnet50,bert --rounds 7 [--webgpu]

For each model (a light model name, or the stem of a file in the corpus folder
$XINRT_CORPUS_DIR or ~/.cache/xinrt/corpus), interleaved rounds in a shuffled order of: raw
`onnxruntime.InferenceSession(path)`, xinrt `backends=["ort"]` on a fresh empty cache folder
(cold) and on a reused one (warm), and the default chain (placement "fastest") cold and warm.
`--webgpu` adds raw ORT WebGPU and xinrt `["ort:webgpu", "cpu"]` (needs onnxruntime-ep-webgpu and a
Vulkan driver; without a GPU set ORT_WEBGPU_EP_ALLOW_SOFTWARE_ADAPTER=1 for lavapipe).
Figures are medians of wall time, and of this process's CPU time (all its threads: less
disturbed by other jobs on a shared machine), as ratios to raw ORT's creation from the same
file, same run.
--profile NAME prints a cProfile of one creation of that step instead.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import onnx
import onnxruntime as ort

import xinrt
from xinrt.testing import LIGHT_MODELS, randomized_light_model


def _model_file(name: str, folder: Path) -> Path:
    if name in LIGHT_MODELS:
        path = folder / f"{name}.onnx"
        onnx.save(randomized_light_model(name), str(path))
        return path
    corpus = Path(os.environ.get("XINRT_CORPUS_DIR") or Path.home() / ".cache" / "xinrt" / "corpus")
    path = corpus / f"{name}.onnx"
    if not path.is_file():
        raise SystemExit(f"{name}: neither a light model nor {path}")
    return path


def _steps(path: str, webgpu: bool) -> dict[str, Callable[[], object]]:
    warm = {key: tempfile.mkdtemp(prefix="xinrt-create-warm-") for key in ("ort", "dflt", "gpu")}

    def xinrt_session(backends: list[str] | None, folder: str | None) -> Callable[[], object]:
        def run() -> object:
            with tempfile.TemporaryDirectory(prefix="xinrt-create-cold-") as cold:
                os.environ["XINRT_CACHE_DIR"] = folder or cold
                return xinrt.InferenceSession(path, backends=backends)

        return run

    steps: dict[str, Callable[[], object]] = {
        "raw ORT": lambda: ort.InferenceSession(path, providers=["CPUExecutionProvider"]),
        "ort cold": xinrt_session(["ort"], None),
        "ort warm": xinrt_session(["ort"], warm["ort"]),
        "default cold": xinrt_session(None, None),
        "default warm": xinrt_session(None, warm["dflt"]),
    }
    if webgpu:
        from xinrt.backends.ort.devices import ep_devices

        def raw_webgpu() -> object:
            options = ort.SessionOptions()
            options.add_provider_for_devices(ep_devices("WebGpuExecutionProvider")[:1], {})
            return ort.InferenceSession(path, options)

        steps["raw ORT webgpu"] = raw_webgpu
        steps["ort:webgpu+cpu cold"] = xinrt_session(["ort:webgpu", "cpu"], None)
        steps["ort:webgpu+cpu warm"] = xinrt_session(["ort:webgpu", "cpu"], warm["gpu"])
    for name in [n for n in steps if "warm" in n]:
        steps[name]()  # fills the warm folders (and imports everything once)
    return steps


def _profile(step: Callable[[], object]) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(step)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def measure(name: str, path: str, rounds: int, webgpu: bool) -> None:
    steps = _steps(path, webgpu)
    wall: dict[str, list[float]] = {step: [] for step in steps}
    cpu: dict[str, list[float]] = {step: [] for step in steps}
    order = list(steps)
    for index in range(rounds):
        random.Random(index).shuffle(order)
        for step in order:
            start, start_cpu = time.perf_counter(), time.process_time()
            steps[step]()
            wall[step].append(time.perf_counter() - start)
            cpu[step].append(time.process_time() - start_cpu)
    for label, times in (("wall", wall), ("cpu", cpu)):
        value = {step: statistics.median(t) for step, t in times.items()}
        cells = []
        for step, seconds in value.items():
            if step.startswith("raw"):
                continue
            base = value["raw ORT webgpu" if "webgpu" in step else "raw ORT"]
            cells.append(f"{step} {seconds / base:.2f}x")
        print(f"{name:<10} {label:<6} " + ", ".join(cells), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="resnet50,bert")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--webgpu", action="store_true")
    parser.add_argument("--profile", help="a step name, e.g. 'ort cold'")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="xinrt-create-") as folder:
        for name in args.models.split(","):
            path = str(_model_file(name, Path(folder)))
            if args.profile:
                _profile(_steps(path, args.webgpu)[args.profile])
            else:
                measure(name, path, args.rounds, args.webgpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
