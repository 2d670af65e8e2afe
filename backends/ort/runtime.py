"""The real onnxruntime module for the other files of this package (None when not installed).

This file holds the one `import onnxruntime` of the package (through real_ort, which never
gives xinrt itself, even when aliased); every other file asks here, so there is a single place
that decides which module is ONNX Runtime.
"""

from __future__ import annotations

from typing import Any

try:
    from .real_ort import real_onnxruntime as _ort
except ImportError:  # the native backend must work without ORT
    _ort = None


def onnxruntime() -> Any:
    """The real onnxruntime module, or None when it is not installed."""
    return _ort


def version() -> str:
    """ONNX Runtime's version, or "none"."""
    ort = onnxruntime()
    return str(ort.__version__) if ort is not None else "none"
