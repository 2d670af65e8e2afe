"""A session whose whole model goes to one backend that takes the model as given (ORT alone).

With one backend and nothing to place, xinrt's own work only repeats what that runtime does:
the graph passes serve placement between backends, the capability question is answered by
that runtime's own load of the model, and re-serializing the model costs as much as reading
it. So such a session skips the passes, asks the backend `capability_of_whole_model` (it may
answer "maybe" and let its compile be the check) and hands it the file or bytes the user gave.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import onnx_ir as ir

from .backend import Backend, Support, get_backend
from .errors import PlacementError
from .graph_utils import name_of
from .model import ModelSource


def sole_original_model_backend(
    backend_names: Sequence[str], overrides: Mapping[str, str]
) -> Backend | None:
    """The backend when it is the only one the session involves and it prefers the model as
    given (Backend.prefers_original_model); else None."""
    involved = {*backend_names, *overrides.values()}
    if len(involved) != 1:
        return None
    backend = get_backend(next(iter(involved)))
    return backend if backend.prefers_original_model else None


def given_model(source: ModelSource | None) -> str | bytes | None:
    """The model as the user gave it, where a backend can take it unread: a path or bytes."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, bytes):
        return source
    return None


def capability(backend: Backend, graph: ir.Graph, *, alone: bool) -> Mapping[str, Support]:
    """The backend's answers for every node of `graph` (capability_of_whole_model when it is
    the only backend); a node it leaves out is a PlacementError naming them."""
    answers = backend.capability_of_whole_model(graph) if alone else backend.capability(graph)
    missing = [name_of(n) for n in graph if name_of(n) not in answers]
    if missing:
        raise PlacementError(
            f"backend {backend.name!r} gave no capability answer for nodes {missing[:5]}"
        )
    return answers
