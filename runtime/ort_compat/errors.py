"""Where onnxruntime raises a plain RuntimeError (pybind11 argument checks) xinrt raises this:
`except RuntimeError` in ORT programs catches it, and it stays an xinrt InvalidArgumentError."""

from __future__ import annotations

from ..errors import InvalidArgumentError


class OrtArgumentError(InvalidArgumentError, RuntimeError):
    """A wrong argument to ORT's Python API, of the class ORT raises for it (RuntimeError)."""
