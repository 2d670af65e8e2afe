"""`rknn:<platform>`: Rockchip NPUs via rknn-toolkit2, out of process (backends/rknn/worker.py).

Default precision fp16 (the NPU has no fp32); int8 quantizes with calibration_data. rv1103 and
rv1106 are int8 only. The toolkit's simulator runs the model (single core); running on a board
through rknn-toolkit-lite2 is not wired up yet, so devices() lists the simulator only.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import onnx_ir as ir

from xinrt.worker.backend import WorkerBackend

from .env import ENV, SDK_VERSION
from .ops import node_rule

FLOAT_PLATFORMS = ("rk3588", "rk3576", "rk3568", "rk3566", "rk3562", "rv1126b")
INT8_ONLY_PLATFORMS = ("rv1103", "rv1106")


class RknnBackend(WorkerBackend):
    """Rockchip NPU (rk3588, rk3576, rk3568, rk3566, rk3562, rv1126b, rv1103, rv1106)."""

    family = "rknn"
    env_spec = ENV
    worker_env = ENV
    adapter_path = Path(__file__).with_name("worker.py")
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
