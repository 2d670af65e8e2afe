"""Compiling one partition: a decline (UnsupportedError) asks for a re-placement; any other
exception is a backend failure, an error unless the session allows falling back."""

from __future__ import annotations

from dataclasses import dataclass

from .backend import Backend, CompileOptions, Executable
from .errors import ExecutionError, UnsupportedError
from .graph_utils import name_of
from .partition import Partition


class CompileDeclined(Exception):
    """Raised to the placement loop: these nodes must go to another backend."""

    def __init__(self, backend: str, node_reasons: dict[str, str]) -> None:
        super().__init__(backend)
        self.backend = backend
        self.node_reasons = node_reasons


@dataclass
class BackendFallback:
    """A compile that failed with an error (not a decline) and was placed elsewhere, because
    SessionOptions.fallback_on_backend_error allowed it."""

    backend: str
    partition: int
    nodes: int
    first_node: str
    error: str


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def compile_partition(
    backend: Backend,
    partition: Partition,
    options: CompileOptions,
    *,
    fallback_on_error: bool = False,
    fallbacks: list[BackendFallback] | None = None,
) -> Executable:
    """backend.compile(partition); UnsupportedError -> CompileDeclined; other exceptions ->
    ExecutionError naming backend and partition, or (with `fallback_on_error`) a decline that
    is appended to `fallbacks` for the placement report."""
    try:
        return backend.compile(partition, options)
    except UnsupportedError as exc:
        reasons = exc.node_reasons or {name_of(n): str(exc) for n in partition.nodes}
        raise CompileDeclined(partition.backend, reasons) from exc
    except Exception as exc:
        first = name_of(partition.nodes[0]) if partition.nodes else ""
        where = (
            f"backend {partition.backend!r} failed compiling partition {partition.index} "
            f"({len(partition.nodes)} nodes, first {first!r})"
        )
        if not fallback_on_error:
            raise ExecutionError(
                f"{where}: {_first_line(exc)}. This is a bug in the backend (a backend declines "
                "what it cannot run with UnsupportedError); report it, leave the backend out, "
                "or set SessionOptions.fallback_on_backend_error = True to place these nodes "
                "on the next backend"
            ) from exc
        if fallbacks is not None:
            fallbacks.append(
                BackendFallback(
                    partition.backend,
                    partition.index,
                    len(partition.nodes),
                    first,
                    _first_line(exc),
                )
            )
        reason = f"compile failed: {_first_line(exc)}"
        raise CompileDeclined(
            partition.backend, {name_of(n): reason for n in partition.nodes}
        ) from exc
