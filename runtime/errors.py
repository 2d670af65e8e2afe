"""The exceptions users see: one hierarchy rooted at XinrtError.

"Invalid" errors are the user's to fix and never trigger fallback; only
UnsupportedError lets the partitioner try the next backend.
"""

from __future__ import annotations


class XinrtError(Exception):
    """Base class of every error xinrt raises on purpose."""


class InvalidModelError(XinrtError, ValueError):
    """The model cannot be loaded: not ONNX, truncated, fails the checker, opset too new."""


class ModelNotFoundError(InvalidModelError, FileNotFoundError):
    """The model path does not exist."""


class ExternalDataError(InvalidModelError):
    """External tensor data is missing or its location escapes the model's directory."""


class InvalidArgumentError(XinrtError, ValueError):
    """An option or argument given to xinrt has a wrong value."""


class InvalidInputError(InvalidArgumentError):
    """A feed given to run(): missing, unknown, wrong dtype, wrong rank or static dim."""


class BackendNotFoundError(InvalidArgumentError):
    """A backend name that no installed backend (entry point) answers to."""


class BackendUnavailableError(XinrtError):
    """A known backend that cannot run here (no device, execution provider not installed)."""


class UnsupportedError(XinrtError):
    """A backend declined work at compile time; `node_reasons` names the nodes it declines."""

    def __init__(self, message: str, node_reasons: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.node_reasons: dict[str, str] = dict(node_reasons or {})


class PlacementError(XinrtError):
    """No valid placement: a node no backend claims, strict mode, or min_coverage missed."""


class ExecutionError(XinrtError, RuntimeError):
    """A backend failed while running a partition."""
