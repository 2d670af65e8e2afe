"""The rknn worker venv: rknn-toolkit2 2.5.0 with the pins that make it install on cp311.

Found on this project's machines (docs/backends/rknn.md): rknn declares torch<=2.4 (on PyPI a
multi-GB CUDA build) but its ONNX path works with a CPU torch 2.13; it needs pkg_resources
(setuptools<81, while torch 2.13 wants >=77.0.3), numpy<=1.26.4, protobuf<=4.25.4 (so
onnxruntime 1.20.1) and an opencv built for numpy 1.x.
"""

from __future__ import annotations

import glob
import os

from xinrt.worker.envs import EnvSpec

SDK_VERSION = "2.5.0"
TORCH = "torch==2.13.0"


def _torch_step() -> tuple[str, ...]:
    """A local CPU torch wheel when pip's find-links has one, else PyTorch's CPU index."""
    for folder in os.environ.get("PIP_FIND_LINKS", "/opt/wheels").split():
        wheels = sorted(glob.glob(os.path.join(folder, "torch-2.13.0+cpu-*.whl")))
        if wheels:
            return (wheels[-1], "setuptools>=77.0.3,<81")
    index = os.environ.get("XINRT_TORCH_INDEX", "https://download.pytorch.org/whl/cpu")
    return (TORCH, "setuptools>=77.0.3,<81", "--extra-index-url", index)


ENV = EnvSpec(
    name="rknn",
    sdk=f"rknn-toolkit2 {SDK_VERSION}",
    steps=(
        _torch_step(),
        ("--no-deps", f"rknn-toolkit2=={SDK_VERSION}"),
        (
            "numpy<=1.26.4",
            "onnx<=1.18",
            "protobuf<=4.25.4",
            "onnxruntime==1.20.1",
            "opencv-python-headless<4.11",
            "scipy",
            "fast-histogram",
            "psutil",
            "ruamel.yaml",
            "tqdm",
        ),
    ),
    check="from rknn.api import RKNN",
    notes="about 1.5 GB (CPU torch 750 MB); rknn-toolkit2 declares torch<=2.4, 2.13 CPU works",
)
