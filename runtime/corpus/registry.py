"""Every corpus model, in build order (a quantized model after the model it is made from)."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import InvalidArgumentError
from .classic_models import classic_entries
from .classic_zipmap import zipmap_entries
from .entry import GROUPS, ModelEntry
from .pypi_models import pypi_entries
from .quantized import quantized_entries
from .torch_models import torch_entries
from .torchvision_models import torchvision_entries
from .transformers_models import transformers_entries


def entries() -> list[ModelEntry]:
    """All corpus entries: PyPI-shipped, torchvision, transformers, torch, quantized."""
    exported = torchvision_entries() + transformers_entries() + torch_entries()
    found = pypi_entries() + exported + quantized_entries(exported) + classic_entries()
    found += zipmap_entries()
    names = [e.name for e in found]
    assert len(names) == len(set(names)), "corpus names must be unique"
    return found


def find_entries(
    only: Sequence[str] = (), groups: Sequence[str] = (), ci: bool = False
) -> list[ModelEntry]:
    """Entries named in `only` (all if empty), of `groups` (all if empty), CI subset if `ci`.

    Raises InvalidArgumentError for an unknown name or group, listing the known ones.
    """
    every = entries()
    known = {e.name for e in every}
    unknown = [n for n in only if n not in known]
    if unknown:
        raise InvalidArgumentError(
            f"unknown corpus model(s) {', '.join(unknown)}; `xinrt corpus list` shows them"
        )
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        raise InvalidArgumentError(
            f"unknown corpus kind(s) {', '.join(bad)}; choose from {', '.join(GROUPS)}"
        )
    return [
        e
        for e in every
        if (not only or e.name in only) and (not groups or e.group in groups) and (e.ci or not ci)
    ]
