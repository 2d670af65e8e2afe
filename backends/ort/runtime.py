"""The real onnxruntime module for the other files of this package (None when not installed).

backend.py holds the one `import onnxruntime` of the package; every other file asks here, so
there is a single place that decides which module is ONNX Runtime.
"""

from __future__ import annotations

from typing import Any


def onnxruntime() -> Any:
    """The onnxruntime module backend.py imported, or None."""
    from . import backend

    return backend._ort


def version() -> str:
    """ONNX Runtime's version, or "none"."""
    ort = onnxruntime()
    return str(ort.__version__) if ort is not None else "none"
