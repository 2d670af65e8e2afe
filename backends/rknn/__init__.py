"""Rockchip NPUs through rknn-toolkit2 (simulator on x86), in a worker process: `rknn:<soc>`."""

from .backend import RknnBackend

__all__ = ["RknnBackend"]
