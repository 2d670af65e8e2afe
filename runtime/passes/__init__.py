"""Graph passes on onnx_ir, each Graph -> Graph and tested alone."""

from __future__ import annotations

from .prepare import prepare_for_placement

__all__ = ["prepare_for_placement"]
