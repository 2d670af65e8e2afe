"""`reference`: onnx.reference.ReferenceEvaluator, the correctness ceiling and last resort."""

from __future__ import annotations

from .backend import ReferenceBackend

__all__ = ["ReferenceBackend"]
