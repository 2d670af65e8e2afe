"""Canaan K230 through nncase + nncase-kpu (simulator), in a worker process: `nncase:k230`."""

from .backend import NncaseBackend

__all__ = ["NncaseBackend"]
