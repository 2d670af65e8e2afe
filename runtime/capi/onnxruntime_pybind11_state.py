"""ONNX Runtime's exception names, mapped onto xinrt's errors so `except ort.capi...Fail` works.

Every xinrt error is a `Fail`; the narrower names map to the xinrt class that carries the same
meaning (an invalid argument, a missing file, a model that is not valid ONNX ...).
"""

from __future__ import annotations

from xinrt.errors import (
    BackendUnavailableError,
    ExecutionError,
    InvalidArgumentError,
    InvalidModelError,
    ModelNotFoundError,
    UnsupportedError,
    XinrtError,
)

Fail = XinrtError
InvalidArgument = InvalidArgumentError
NoSuchFile = ModelNotFoundError
NoModel = InvalidModelError
InvalidProtobuf = InvalidModelError
InvalidGraph = InvalidModelError
ModelLoaded = InvalidModelError
NotImplemented = UnsupportedError  # noqa: A001 - ORT's own name
RuntimeException = ExecutionError
EngineError = ExecutionError
EPFail = BackendUnavailableError
NotFound = InvalidArgumentError
ModelRequiresCompilation = UnsupportedError
ModelLoadCanceled = ExecutionError
DeviceReset = ExecutionError

__all__ = [
    "EPFail",
    "EngineError",
    "Fail",
    "InvalidArgument",
    "InvalidGraph",
    "InvalidProtobuf",
    "ModelLoaded",
    "NoModel",
    "NoSuchFile",
    "NotImplemented",
    "RuntimeException",
]
