"""`nncase:k230`: Canaan K230 via nncase 2.11 + nncase-kpu, out of process (worker.py).

Precision fp32 (default) compiles a float kmodel, which the K230 runs on its CPU part; int8
quantizes (PTQ, uint8) for the KPU using calibration_data. Compiles take seconds to minutes and
the simulator seconds per inference: the compile cache keeps the kmodel bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import onnx_ir as ir

from xinrt.worker.backend import WorkerBackend

from .env import ENV, SDK_VERSION
from .ops import node_rule


class NncaseBackend(WorkerBackend):
    """Canaan Kendryte K230 (KPU for int8, the CPU part for float kmodels)."""

    family = "nncase"
    env_spec = ENV
    worker_env = ENV
    adapter_path = Path(__file__).with_name("worker.py")
    sdk_version = SDK_VERSION
    targets: ClassVar[tuple[str, ...]] = ("k230",)
    default_target = "k230"
    precisions: ClassVar[tuple[str, ...]] = ("fp32", "int8")
    default_precision = "fp32"
    probe_timeout_s = 900.0
    compile_timeout_s = 3600.0
    run_timeout_s = 300.0  # the simulator takes seconds per inference; minutes for big models

    def node_rule(self, node: ir.Node, graph: ir.Graph) -> str:
        return node_rule(node)

    def check_precision(self, precision: str) -> str:
        if precision == "fp16":
            return "nncase compiles float (fp32) or quantized (int8/uint8) kmodels, not fp16"
        return super().check_precision(precision)
