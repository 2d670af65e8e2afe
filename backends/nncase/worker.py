"""The nncase adapter: the only file that imports Canaan's nncase (K230 compiler + simulator).

It runs in the nncase worker venv. nncase's compiler is .NET: any compiler error ends the
process with an unhandled exception (SIGABRT), which xinrt sees as a crashed worker quoting the
exception line. kmodel bytes reload fine, so a cached artifact skips the compile entirely.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import nncase
import numpy as np
import sdk_tools  # from runtime/worker, on the worker's sys.path


class NncaseAdapter:
    """Loaded kmodels by handle; every method takes (args, arrays) -> (result, arrays)."""

    def __init__(self) -> None:
        self.models: dict[int, Any] = {}
        self.next_handle = 1
        self.folder = tempfile.mkdtemp(prefix="xinrt-nncase-")

    def version(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        from importlib import metadata

        return {"version": metadata.version("nncase")}, {}

    def _compile(
        self, model: bytes, target: str, samples: list[list[np.ndarray]] | None
    ) -> tuple[bytes, str]:
        options = nncase.CompileOptions()
        options.target = target
        options.dump_ir = False
        options.dump_asm = False
        options.dump_dir = os.path.join(self.folder, f"dump{self.next_handle}")
        with sdk_tools.capture_output() as captured:
            compiler = nncase.Compiler(options)
            compiler.import_onnx(model, nncase.ImportOptions())
            if samples:
                ptq = nncase.PTQTensorOptions()
                ptq.samples_count = len(samples[0])
                ptq.calibrate_method = "NoClip"
                ptq.set_tensor_data(samples)  # [input][sample]
                compiler.use_ptq(ptq)
            compiler.compile()
            kmodel = compiler.gencode_tobytes()
        return bytes(kmodel), captured.text

    def probe(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        """Float trial compiles; an unsupported op kills this process (xinrt retries alone)."""
        reasons = []
        for i in range(int(args["count"])):
            try:
                self._compile(arrays[f"m{i}"].tobytes(), str(args["target"]), None)
                reasons.append("")
            except Exception as exc:  # nncase raises RuntimeError for some refusals
                reasons.append(f"nncase: {exc}"[:300])
        return {"reasons": reasons}, {}

    def compile(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        inputs = list(args["inputs"])
        log = ""
        if "artifact" in arrays:
            kmodel = arrays["artifact"].tobytes()
        else:
            samples = None
            if args["precision"] == "int8":
                count = sum(
                    1
                    for key in arrays
                    if key.startswith("calib.") and key.endswith("." + inputs[0])
                )
                samples = [[arrays[f"calib.{i}.{n}"] for i in range(count)] for n in inputs]
            kmodel, log = self._compile(arrays["model"].tobytes(), str(args["target"]), samples)
        simulator = nncase.Simulator()
        simulator.load_model(kmodel)
        handle = self.next_handle
        self.next_handle += 1
        self.models[handle] = (simulator, inputs)
        artifact = np.frombuffer(kmodel, dtype=np.uint8)
        return {"handle": handle, "log": sdk_tools.error_lines(log)}, {"artifact": artifact}

    def run(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        simulator, inputs = self.models[int(args["handle"])]
        for index, name in enumerate(inputs):
            tensor = nncase.RuntimeTensor.from_numpy(np.ascontiguousarray(arrays[name]))
            simulator.set_input_tensor(index, tensor)
        simulator.run()
        outputs = {}
        for index, name in enumerate(args["outputs"]):
            outputs[name] = np.asarray(simulator.get_output_tensor(index).to_numpy())
        return {}, outputs

    def release(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        self.models.pop(int(args["handle"]), None)
        return {}, {}


def create() -> NncaseAdapter:
    """Called by the worker server."""
    return NncaseAdapter()
