"""The rknn-toolkit2 adapter: the only file that imports the Rockchip SDK.

It runs in the rknn worker venv (runtime/worker/server.py loads it), never in xinrt's process.
The simulator cannot run a saved .rknn (`load_rknn` + `init_runtime()` is refused), so each
compiled model stays alive here as the RKNN object of its `load_onnx` + `build`.
"""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any

import numpy as np
import sdk_tools  # from runtime/worker, on the worker's sys.path
from rknn.api import RKNN

_TABLE_ROW = re.compile(r"RKNN: \[[^\]]*\]\s+\d+\s+(\S+)\s+\S+\s+(NPU|CPU)\s.*?\s(\S+):(\S+)\s*$")
INT8_ONLY = ("rv1103", "rv1106", "rv1103b", "rv1106b")


def op_targets(log: str) -> dict[str, tuple[str, str]]:
    """Node name -> (op type, NPU or CPU) from the verbose build's layer table."""
    found: dict[str, tuple[str, str]] = {}
    for line in log.splitlines():
        match = _TABLE_ROW.search(line)
        if match and match.group(3) == match.group(1) and not match.group(1).endswith("Operator"):
            found[match.group(4)] = (match.group(1), match.group(2))
    return found


class RknnAdapter:
    """Compiled models by handle; every method takes (args, arrays) -> (result, arrays)."""

    def __init__(self) -> None:
        self.models: dict[int, tuple[Any, list[str]]] = {}
        self.next_handle = 1
        self.folder = tempfile.mkdtemp(prefix="xinrt-rknn-")

    def version(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        from importlib import metadata

        return {"version": metadata.version("rknn-toolkit2")}, {}

    def _build(
        self, model: bytes, target: str, quantize: bool, dataset: list[list[np.ndarray]] | None
    ) -> tuple[Any, str]:
        """(RKNN object, build log); raises RuntimeError with the SDK's own message."""
        path = os.path.join(self.folder, f"m{self.next_handle}.onnx")
        with open(path, "wb") as handle:
            handle.write(model)
        rknn = RKNN(verbose=True)
        with sdk_tools.capture_output() as captured:
            try:
                rknn.config(target_platform=target)
                code = rknn.load_onnx(model=path)
                if code == 0:
                    dataset_path = self._dataset(dataset) if quantize else None
                    code = rknn.build(do_quantization=quantize, dataset=dataset_path)
            except Exception as exc:  # rknn raises ValueError/AttributeError for refusals
                rknn.release()
                raise RuntimeError(f"rknn-toolkit2: {exc}") from None
        if code != 0:
            rknn.release()
            detail = sdk_tools.error_lines(captured.text) or f"returned {code}"
            raise RuntimeError(f"rknn-toolkit2 build failed: {detail}")
        return rknn, captured.text

    def _dataset(self, samples: list[list[np.ndarray]] | None) -> str:
        lines = []
        for i, sample in enumerate(samples or []):
            paths = []
            for j, array in enumerate(sample):
                path = os.path.join(self.folder, f"calib{self.next_handle}_{i}_{j}.npy")
                np.save(path, array)
                paths.append(path)
            lines.append(" ".join(paths))
        listing = os.path.join(self.folder, f"dataset{self.next_handle}.txt")
        with open(listing, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        return listing

    def probe(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        """One-node models: "" if the NPU runs the node, else the reason (CPU fallback too)."""
        target = str(args["target"])
        reasons = []
        for i in range(int(args["count"])):
            model = arrays[f"m{i}"].tobytes()
            quantize = target in INT8_ONLY
            dataset = [self._random_inputs(model)] if quantize else None
            try:
                rknn, log = self._build(model, target, quantize, dataset)
            except RuntimeError as exc:
                reasons.append(str(exc)[:300])
                continue
            rknn.release()
            on_cpu = [(n, op) for n, (op, where) in op_targets(log).items() if where == "CPU"]
            reasons.append(
                f"rknn {target} hands {on_cpu[0][1]} back to its own CPU (not the NPU)"
                if on_cpu
                else ""
            )
        return {"reasons": reasons}, {}

    def _random_inputs(self, model: bytes) -> list[np.ndarray]:
        import onnx

        proto = onnx.load_from_string(model)
        rng = np.random.default_rng(0)
        weights = {t.name for t in proto.graph.initializer}
        sample = []
        for value in proto.graph.input:
            if value.name in weights:
                continue
            dims = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]
            sample.append(rng.standard_normal(dims).astype(np.float32))
        return sample

    def compile(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        inputs = list(args["inputs"])
        quantize = args["precision"] == "int8"
        samples: list[list[np.ndarray]] = []
        i = 0
        while quantize and f"calib.{i}.{inputs[0]}" in arrays:
            samples.append([arrays[f"calib.{i}.{n}"] for n in inputs])
            i += 1
        rknn, log = self._build(arrays["model"].tobytes(), str(args["target"]), quantize, samples)
        declined = {
            name: f"rknn {args['target']} hands {op} back to its own CPU (not the NPU)"
            for name, (op, where) in op_targets(log).items()
            if where == "CPU"
        }
        if declined:
            rknn.release()
            return {"declined": declined, "log": sdk_tools.error_lines(log)}, {}
        artifact = np.zeros(0, np.uint8)
        path = os.path.join(self.folder, f"m{self.next_handle}.rknn")
        with sdk_tools.capture_output():
            if rknn.export_rknn(path) == 0:
                with open(path, "rb") as handle:
                    artifact = np.frombuffer(handle.read(), np.uint8)
            code = rknn.init_runtime()  # no target: the simulator
        if code != 0:
            rknn.release()
            raise RuntimeError(f"rknn-toolkit2 init_runtime (simulator) returned {code}")
        handle_id = self.next_handle
        self.next_handle += 1
        self.models[handle_id] = (rknn, inputs)
        return {"handle": handle_id, "log": sdk_tools.error_lines(log)}, {"artifact": artifact}

    def run(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        rknn, inputs = self.models[int(args["handle"])]
        feeds = [arrays[name] for name in inputs]
        formats = ["nchw" if np.ndim(x) == 4 else "nhwc" for x in feeds]
        outputs = rknn.inference(inputs=feeds, data_format=formats)
        if outputs is None:
            raise RuntimeError("rknn-toolkit2 inference returned None (see the SDK log)")
        return {}, {name: np.asarray(o) for name, o in zip(args["outputs"], outputs)}

    def release(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        entry = self.models.pop(int(args["handle"]), None)
        if entry is not None:
            entry[0].release()
        return {}, {}


def create() -> RknnAdapter:
    """Called by the worker server."""
    return RknnAdapter()
