"""Run a model on [<ort backend>, "cpu"] in a fresh process and print what happened as JSON.

    python -m tests.backends.ort.ep_worker ort:webgpu resnet50|transformer

A separate process because plugin EP packages register once per process, when the first `ort`
backend loads, and read their environment (ORT_WEBGPU_EP_ALLOW_SOFTWARE_ADAPTER) only then.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

import xinrt
from xinrt.backend import get_backend
from xinrt.bench.models import transformer_encoder
from xinrt.testing import model_input_feeds, randomized_light_model


def _model(name: str) -> onnx.ModelProto:
    if name == "transformer":
        return transformer_encoder(layers=2, hidden=64, heads=4, sequence=16, seed=3)
    return randomized_light_model(name)


def main(backend_name: str, model_name: str) -> dict[str, object]:
    backend = get_backend(backend_name)
    if not backend.devices():
        return {"unavailable": backend.unavailable_reason(), "doctor": backend.doctor()}  # type: ignore[attr-defined]
    model = _model(model_name)
    feeds = model_input_feeds(model, seed=11)
    session = xinrt.InferenceSession(model, backends=[backend_name, "cpu"])
    got = session.run(None, feeds)
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, feeds
    )
    report = session.placement
    return {
        "coverage": report.coverage(),
        "devices": report.devices,
        "partition_details": [p.details for p in report.partitions if p.backend == backend_name],
        "declined": sorted({r for n in report.nodes for r in n.declined.values()}),
        "capability": backend.last_capability.method,  # type: ignore[attr-defined]
        "max_abs_error": max(float(np.abs(g - w).max()) for g, w in zip(got, want)),
        "max_abs_reference": max(float(np.abs(w).max()) for w in want),
        "allclose_rtol_1e-3": all(
            np.allclose(g, w, rtol=1e-3, atol=1e-3 * float(np.abs(w).max()))
            for g, w in zip(got, want)
        ),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
