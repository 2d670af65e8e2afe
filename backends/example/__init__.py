"""The example NPU backend: the template for vendor backends, on a fake SDK."""

from .backend import ExampleBackend

__all__ = ["ExampleBackend"]
