"""`xinrt serve demo`: the demo's model (the onnx wheel's light ResNet-50 with seeded random
weights) with a dynamic batch dim, written once into the cache folder as a repository."""

from __future__ import annotations

from pathlib import Path

import onnx

from ..cache import cache_dir
from ..testing import randomized_light_model

DEMO_MODEL = "resnet50"


def demo_repository() -> Path:
    """The repository folder holding resnet50/1/model.onnx, built on first use."""
    root = cache_dir() / "serve-demo"
    path = root / DEMO_MODEL / "1" / "model.onnx"
    if not path.is_file():
        model = randomized_light_model(DEMO_MODEL, seed=0)
        for value in list(model.graph.input) + list(model.graph.output):
            value.type.tensor_type.shape.dim[0].dim_param = "N"  # batchable
        del model.graph.value_info[:]
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        onnx.save(model, str(partial))
        partial.replace(path)
    return root
