"""Latency on ONNX Runtime's WebGPU EP: xinrt ["ort:webgpu", "cpu"] against raw ORT WebGPU and
raw ORT CPU, light ResNet-50 and a small transformer, interleaved.

    .venv/bin/python bench/ort_webgpu_latency.py [--runs 10]

Needs onnxruntime-ep-webgpu and a Vulkan driver (tools/gpu-webgpu-check.sh sets them up on a GPU
machine; without a GPU, ORT_WEBGPU_EP_ALLOW_SOFTWARE_ADAPTER=1 uses lavapipe). Prints medians as
ratios to raw ORT WebGPU, the device ORT chose, and the max error against ORT CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort

import xinrt
from xinrt.backend import get_backend
from xinrt.bench.models import transformer_encoder
from xinrt.testing import model_input_feeds, randomized_light_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    backend = get_backend("ort:webgpu")  # registers the installed plugin package
    devices = backend.devices()
    if not devices:
        raise SystemExit(f"ort:webgpu unavailable: {backend.unavailable_reason()}")
    print("device:", devices[0].name, "|", devices[0].detail)
    from xinrt.backends.ort.devices import ep_devices

    models = {
        "light ResNet-50": randomized_light_model("resnet50"),
        "transformer 4x256, seq 128": transformer_encoder(),
    }
    for label, model in models.items():
        data = model.SerializeToString()
        feeds = model_input_feeds(model, seed=1)
        options = ort.SessionOptions()
        options.add_provider_for_devices(ep_devices("WebGpuExecutionProvider")[:1], {})
        runners = {
            "raw ORT WebGPU": ort.InferenceSession(data, options).run,
            "raw ORT CPU": ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run,
        }
        session = xinrt.InferenceSession(data, backends=["ort:webgpu", "cpu"])
        runners["xinrt ort:webgpu+cpu"] = session.run
        want = runners["raw ORT CPU"](None, feeds)[0]
        errors = {
            name: float(np.abs(run(None, feeds)[0] - want).max()) for name, run in runners.items()
        }
        times: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(args.runs):
            for name, run in runners.items():
                start = time.perf_counter()
                run(None, feeds)
                times[name].append(time.perf_counter() - start)
        base = statistics.median(times["raw ORT WebGPU"])
        coverage = session.placement.coverage()
        print(
            f"{label}: ort:webgpu runs {coverage.get('ort:webgpu', 0):.1%} of FLOPs, "
            f"{len(session.placement.partitions)} partitions"
        )
        for name, values in times.items():
            print(
                f"  {name:<22} {statistics.median(values) / base:6.2f}x raw ORT WebGPU "
                f"(max |diff| vs ORT CPU {errors[name]:.2e})"
            )


if __name__ == "__main__":
    main()
