"""One corpus model: its name, what it is, where it comes from, and how to build and feed it."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..cache import cache_dir

# A builder writes the model to `path`; it may read other corpus models through `corpus_path`.
Builder = Callable[[Path], None]
# A value maker returns an array, or a dict for a map input (DictVectorizer's).
ValueMaker = Callable[[np.random.Generator, list[int], np.dtype], Any]

GROUPS = ("pypi", "torchvision", "transformers", "torch", "quantized", "classic")


@dataclass
class FeedSpec:
    """How to make an input feed: sizes for symbolic dims, whole shapes, value makers."""

    dims: dict[str, int] = field(default_factory=dict)  # symbolic dim name -> size
    shapes: dict[str, list[int]] = field(default_factory=dict)  # input -> full shape
    int_high: dict[str, int] = field(default_factory=dict)  # input -> exclusive upper bound
    values: Mapping[str, ValueMaker] = field(default_factory=dict)  # input -> maker
    default_dim: int = 1  # a dim with no name and no size (`?`, -1, 0)


@dataclass
class ModelEntry:
    """A corpus model. `group` is where it comes from (one of GROUPS), `task` what it does."""

    name: str
    group: str
    task: str
    source: str  # one line: package==version:file, or the exporter and model constructor
    builder: Builder
    feeds: FeedSpec = field(default_factory=FeedSpec)
    quantized: bool = False  # compare by cosine and arg-max instead of rtol/atol
    argmax_outputs: tuple[int, ...] = ()  # outputs that are classifications or token scores
    ci: bool = False  # part of the CI subset
    needs: tuple[str, ...] = ()  # Python modules the builder imports
    base: str = ""  # the corpus model this one is made from (built first)

    @property
    def path(self) -> Path:
        """Where the built model lives."""
        return corpus_path(self.name)


def corpus_dir() -> Path:
    """$XINRT_CORPUS_DIR, else the corpus folder inside the xinrt cache folder."""
    explicit = os.environ.get("XINRT_CORPUS_DIR")
    return Path(explicit) if explicit else cache_dir() / "corpus"


def corpus_path(name: str) -> Path:
    """The cached file of the corpus model `name`."""
    return corpus_dir() / f"{name}.onnx"
