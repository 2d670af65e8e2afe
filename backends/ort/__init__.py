"""`ort` and `ort:<ep>`: ONNX Runtime with any execution provider it has."""

from __future__ import annotations

from .backend import OrtBackend

__all__ = ["OrtBackend"]
