"""Plugin execution-provider libraries: register one by path, then use it as `ort:<ep name>`."""

from __future__ import annotations

import os

from xinrt.backend import get_backend
from xinrt.errors import BackendUnavailableError, InvalidArgumentError


def register_ep_library(name: str, path: str | os.PathLike[str]) -> None:
    """Load a plugin EP shared library into ONNX Runtime under `name`.

    Its EP then answers to `ort:<ep name>` (the name the library reports, e.g. `ort:myep`).
    """
    try:
        import onnxruntime
    except ImportError:
        raise BackendUnavailableError(
            "onnxruntime is not installed; pip install onnxruntime to use plugin EPs"
        ) from None
    if not os.path.isfile(path):
        raise InvalidArgumentError(f"plugin EP library {name!r}: file not found: {path}")
    if not hasattr(onnxruntime, "register_execution_provider_library"):
        raise BackendUnavailableError(
            f"onnxruntime {onnxruntime.__version__} cannot load plugin EP libraries "
            "(needs onnxruntime >= 1.22)"
        )
    try:
        onnxruntime.register_execution_provider_library(name, os.fspath(path))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BackendUnavailableError(f"plugin EP library {name!r} ({path}): {first}") from None
    get_backend.cache_clear()  # `ort:<ep>` instances made before must see the new EP
