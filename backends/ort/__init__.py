"""`ort` and `ort:<ep>`: ONNX Runtime with any execution provider it has."""

from __future__ import annotations

from .backend import OrtBackend
from .plugins import register_ep_library

__all__ = ["OrtBackend", "register_ep_library"]
