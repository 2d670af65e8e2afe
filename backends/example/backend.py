"""`example:v1`: the template a vendor copies (one folder + one entry point), on a fake SDK.

A vendor backend is four files: `__init__.py` (exports the class), `backend.py` (this file: the
worker venv's `EnvSpec` and the `WorkerBackend` subclass), `rules.py` (the vendor's documented
ops and limits) and `worker.py` (the adapter, the only file that imports the SDK). To make a
real one: copy those four to backends/<chip>/, pin your SDK's pip packages in `ENV`, rewrite
`worker.py` around your SDK, list your ops in `rules.py`, and register
`<chip> = "<package>.backend:<Class>"` under [project.entry-points."xinrt.backends"].
`fake_sdk.py` is not part of the template: it stands in for the vendor's pip package, so CI
tests this backend's logic in a worker on xinrt's own Python, with no venv to install.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

import onnx_ir as ir

from xinrt.worker.backend import WorkerBackend
from xinrt.worker.envs import EnvSpec

from .rules import node_rule

ENV = EnvSpec(
    name="example",
    sdk="fake_sdk 1.0.0",
    steps=(("numpy", "onnx"),),  # a real SDK pins its packages here, e.g. ("vendor-sdk==2.5.0",)
    check="import numpy, onnx",
)


class ExampleBackend(WorkerBackend):
    """The example NPU: fp32, fp16 and int8 (emulated), target v1; a fake SDK in a worker."""

    family = "example"
    env_spec = ENV
    sdk_version = "1.0.0"
    targets: ClassVar[tuple[str, ...]] = ("v1",)
    default_target = "v1"
    precisions: ClassVar[tuple[str, ...]] = ("fp32", "fp16", "int8")
    default_precision = "fp32"
    probe_timeout_s = 60.0
    compile_timeout_s = 60.0
    run_timeout_s = 60.0

    def simulator_ready(self) -> bool:
        return True  # the fake SDK needs nothing but numpy and onnx, which xinrt has

    def worker_python(self) -> Path:
        # A real SDK runs on its own venv's Python: delete this method and keep the default.
        return Path(sys.executable)

    def node_rule(self, node: ir.Node, graph: ir.Graph) -> str:
        return node_rule(node)
