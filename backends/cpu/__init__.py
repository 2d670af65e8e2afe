"""`cpu`: xinrt's own C++ kernels (xinrt._native)."""

from __future__ import annotations

from .backend import CpuBackend

__all__ = ["CpuBackend"]
