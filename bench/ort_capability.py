"""ORT backend: capability and session creation for the light ResNet-50, against raw ORT.

    .venv/bin/python bench/ort_capability.py [--webgpu] [--rounds 5]

Interleaved rounds in a shuffled order; each xinrt measurement uses a fresh, empty cache folder
(cold capability cache) unless marked warm. Figures are medians, as ratios to raw ORT's
session creation from the same model bytes. `--webgpu` adds `ort:webgpu` (needs
onnxruntime-ep-webgpu and a Vulkan driver; on a machine without a GPU set
ORT_WEBGPU_EP_ALLOW_SOFTWARE_ADAPTER=1 for lavapipe).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable

import onnxruntime as ort

import xinrt
from xinrt.backend import get_backend
from xinrt.cache import JsonCache
from xinrt.model import load_model
from xinrt.passes import optimize, prepare_for_placement
from xinrt.testing import randomized_light_model

_PARTS: dict[str, list[dict[str, float]]] = {}  # step name -> xinrt sessions' timings


def _timed(name: str, step: Callable[[], object]) -> float:
    start = time.perf_counter()
    made = step()
    seconds = time.perf_counter() - start
    if isinstance(made, xinrt.InferenceSession):
        _PARTS.setdefault(name, []).append(dict(made.timings))
    return seconds


def _cold(step: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        with tempfile.TemporaryDirectory() as folder:
            os.environ["XINRT_CACHE_DIR"] = folder
            return step()

    return run


def _warm(step: Callable[[], object], folder: str) -> Callable[[], object]:
    def run() -> object:
        os.environ["XINRT_CACHE_DIR"] = folder
        return step()

    return run


def _probe_all(backend_name: str, graph: object) -> Callable[[], object]:
    """The one-node probe over every node: the capability path before in-context assignment."""
    backend = get_backend(backend_name)

    def run() -> object:
        # a fresh probe cache: the backend keeps the one it loaded when it was created
        backend._probes = JsonCache(f"ort-capability-probe-{backend.name}")  # type: ignore[attr-defined]
        answers = {n.name: backend._probe(n, graph) for n in graph}  # type: ignore[attr-defined]
        backend._probes.flush()  # type: ignore[attr-defined]
        return answers

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--webgpu", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    model = randomized_light_model("resnet50")
    data = model.SerializeToString()
    graph = optimize(prepare_for_placement(load_model(model).ir_model), 99).graph
    warm = tempfile.mkdtemp()
    steps: dict[str, Callable[[], object]] = {
        "raw ORT CPU session": lambda: ort.InferenceSession(
            data, providers=["CPUExecutionProvider"]
        ),
        "xinrt ['ort'] session, cold cache": _cold(
            lambda: xinrt.InferenceSession(data, backends=["ort"])
        ),
        "xinrt ['ort'] session, warm cache": _warm(
            lambda: xinrt.InferenceSession(data, backends=["ort"]), warm
        ),
        "ort capability, cold (ORT assignment)": _cold(
            lambda: get_backend("ort").capability(graph)
        ),
        "ort capability, cold (one-node probe)": _cold(_probe_all("ort", graph)),
    }
    if args.webgpu:
        from xinrt.backends.ort.devices import ep_devices

        def raw_webgpu() -> object:
            options = ort.SessionOptions()
            options.add_provider_for_devices(ep_devices("WebGpuExecutionProvider")[:1], {})
            return ort.InferenceSession(data, options)

        steps["raw ORT WebGPU session"] = raw_webgpu
        steps["xinrt ['ort:webgpu','cpu'] session, cold cache"] = _cold(
            lambda: xinrt.InferenceSession(data, backends=["ort:webgpu", "cpu"])
        )
        steps["ort:webgpu capability, cold (ORT assignment)"] = _cold(
            lambda: get_backend("ort:webgpu").capability(graph)
        )
        steps["ort:webgpu capability, cold (one-node probe)"] = _cold(
            _probe_all("ort:webgpu", graph)
        )
    _warm(lambda: xinrt.InferenceSession(data, backends=["ort"]), warm)()  # imports; warm entry
    times: dict[str, list[float]] = {name: [] for name in steps}
    order = list(steps)
    for _ in range(args.rounds):
        random.Random(len(times[order[0]])).shuffle(order)  # no step always runs first
        for name in order:
            times[name].append(_timed(name, steps[name]))
    base = {"CPU": statistics.median(times["raw ORT CPU session"])}
    if args.webgpu:
        base["WebGPU"] = statistics.median(times["raw ORT WebGPU session"])
    for name in steps:
        median = statistics.median(times[name])
        ref = base["WebGPU"] if "webgpu" in name.lower() else base["CPU"]
        label = "WebGPU" if "webgpu" in name.lower() else "CPU"
        print(f"{name:<48} {median / ref:6.2f}x raw ORT {label} session creation")
        if name in _PARTS:
            parts = {
                key: statistics.median(t[key] for t in _PARTS[name]) / ref
                for key in ("load_s", "capability_s", "compile_s")
            }
            rest = median / ref - sum(parts.values())
            print(
                "    "
                + ", ".join(f"{k[:-2]} {v:.2f}x" for k, v in parts.items())
                + f", passes and rest {rest:.2f}x"
            )


if __name__ == "__main__":
    main()
