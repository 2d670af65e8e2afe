"""`rknn:<platform>`: Rockchip NPUs via rknn-toolkit2, out of process (backends/rknn/worker.py).

Default precision fp16 (the NPU has no fp32); int8 quantizes with calibration_data. rv1103 and
rv1106 are int8 only. The toolkit's simulator runs the model (single core); running on a board
through rknn-toolkit-lite2 is not wired up yet, so devices() lists the simulator only.

The worker venv: rknn-toolkit2 2.5.0 with the pins that make it install on cp311. Found on this
project's machines (docs/backends/rknn.md): rknn declares torch<=2.4 (on PyPI a multi-GB CUDA
build) but its ONNX path works with a CPU torch 2.13; it needs pkg_resources (setuptools<81,
while torch 2.13 wants >=77.0.3), numpy<=1.26.4, protobuf<=4.25.4 (so onnxruntime 1.20.1) and
an opencv built for numpy 1.x.
"""

from __future__ import annotations

import glob
import os
from typing import ClassVar

import onnx_ir as ir

from xinrt.worker.backend import WorkerBackend
from xinrt.worker.envs import EnvSpec

from .rules import node_rule

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


FLOAT_PLATFORMS = ("rk3588", "rk3576", "rk3568", "rk3566", "rk3562", "rv1126b")
INT8_ONLY_PLATFORMS = ("rv1103", "rv1106")


class RknnBackend(WorkerBackend):
    """Rockchip NPU (rk3588, rk3576, rk3568, rk3566, rk3562, rv1126b, rv1103, rv1106)."""

    family = "rknn"
    env_spec = ENV
    sdk_version = SDK_VERSION
    targets: ClassVar[tuple[str, ...]] = FLOAT_PLATFORMS + INT8_ONLY_PLATFORMS
    default_target = "rk3588"
    precisions: ClassVar[tuple[str, ...]] = ("fp16", "int8")
    default_precision = "fp16"
    compile_timeout_s = 900.0

    def __init__(self, target: str | None = None) -> None:
        super().__init__(target)
        if self.target in INT8_ONLY_PLATFORMS:
            self.default_precision = "int8"  # type: ignore[misc]

    def node_rule(self, node: ir.Node, graph: ir.Graph) -> str:
        return node_rule(node)

    def check_precision(self, precision: str) -> str:
        if precision == "fp32":
            return "Rockchip NPUs compute floats in fp16 only (rknn float_dtype is float16)"
        if precision == "fp16" and self.target in INT8_ONLY_PLATFORMS:
            return f"{self.target} runs quantized models only (int8)"
        return super().check_precision(precision)
