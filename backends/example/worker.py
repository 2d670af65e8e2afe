"""The example SDK adapter: the only file that imports the (fake) vendor SDK.

Copy this file for a real SDK: keep the five methods (version, probe, compile, run, release),
replace `fake_sdk` calls with your SDK's. It runs in the worker process, never in xinrt's.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_sdk  # noqa: E402  (a real adapter imports the vendor's package here)


class ExampleAdapter:
    """Compiled models by handle; every method takes (args, arrays) -> (result, arrays)."""

    def __init__(self) -> None:
        self.models: dict[int, tuple[fake_sdk.CompiledModel, list[str]]] = {}
        self.next_handle = 1

    def version(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        return {"version": fake_sdk.__version__}, {}

    def probe(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        """One-node trial compiles: "" when supported, else the SDK's own message."""
        reasons = []
        for i in range(int(args["count"])):
            try:
                fake_sdk.compile_model(arrays[f"m{i}"].tobytes(), str(args["target"]), "fp32")
                reasons.append("")
            except fake_sdk.FakeSdkError as exc:
                reasons.append(f"fake_sdk: {exc}")
        return {"reasons": reasons}, {}

    def compile(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        precision = str(args["precision"])
        if "artifact" in arrays:
            compiled = fake_sdk.load_compiled(arrays["artifact"].tobytes(), precision)
        else:
            model = arrays["model"].tobytes()
            calibration = _calibration_samples(arrays, list(args["inputs"]))
            compiled = fake_sdk.compile_model(model, str(args["target"]), precision, calibration)
        handle = self.next_handle
        self.next_handle += 1
        self.models[handle] = (compiled, list(args["inputs"]))
        artifact = np.frombuffer(compiled.serialize(), dtype=np.uint8)
        return {"handle": handle}, {"artifact": artifact}

    def run(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        compiled, inputs = self.models[int(args["handle"])]
        feeds = {name: arrays[name] for name in inputs}
        if any(np.isposinf(v).any() for v in feeds.values() if v.dtype.kind == "f"):
            _answer_garbage()
        results = compiled.run(feeds)
        return {}, dict(zip(args["outputs"], results))

    def release(self, args: dict[str, Any], arrays: dict[str, np.ndarray]) -> Any:
        self.models.pop(int(args["handle"]), None)
        return {}, {}


def _calibration_samples(
    arrays: dict[str, np.ndarray], inputs: list[str]
) -> list[dict[str, np.ndarray]]:
    """xinrt sends calibration data as arrays named `calib.<sample>.<input>`."""
    count = len({name.split(".")[1] for name in arrays if name.startswith("calib.")})
    return [{n: arrays[f"calib.{i}.{n}"] for n in inputs} for i in range(count)]


def _answer_garbage() -> None:
    """A misbehaving SDK (tests only): bytes on the pipe to xinrt that are not a message."""
    import __main__  # the worker server, which keeps the pipe's file descriptor

    os.write(__main__.PROTOCOL_FD, b"\x00\x10garbage that is not a message" * 100)


def create() -> ExampleAdapter:
    """Called by the worker server."""
    return ExampleAdapter()
