"""ORT's IOBinding (CPU memory) and run_async, written on top of a session's run()."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from ..errors import InvalidArgumentError
from .objects import OrtValueVector
from .ortvalue import OrtValue, cpu_only


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class RunnableSession(Protocol):
    """What IOBinding and run_async need of a session: ORT's run() and get_outputs()."""

    def run(
        self, output_names: Sequence[str] | None, input_feed: Mapping[str, Any], run_options: Any
    ) -> list[np.ndarray]: ...

    def get_outputs(self) -> Sequence[_Named]: ...


class IOBinding:
    """ORT's IOBinding for CPU memory: bind inputs and outputs, run, read the results."""

    def __init__(self, session: RunnableSession) -> None:
        self._session = session
        self._inputs: dict[str, np.ndarray] = {}
        self._outputs: dict[str, OrtValue | None] = {}
        self._results: list[OrtValue] = []

    def bind_cpu_input(self, name: str, array: np.ndarray) -> None:
        self._inputs[name] = np.asarray(array)

    def bind_ortvalue_input(self, name: str, value: OrtValue) -> None:
        self._inputs[name] = value.typed_array()

    def bind_input(
        self,
        name: str,
        device_type: str,
        device_id: int,
        element_type: Any,
        shape: Sequence[int],
        buffer_ptr: int,
    ) -> None:
        raise InvalidArgumentError(
            f"bind_input({name!r}) with a raw buffer pointer is not supported by xinrt; use "
            "bind_cpu_input or bind_ortvalue_input"
        )

    def bind_output(
        self,
        name: str,
        device_type: str = "cpu",
        device_id: int = 0,
        element_type: Any = None,
        shape: Sequence[int] | None = None,
        buffer_ptr: int | None = None,
    ) -> None:
        cpu_only(device_type, f"bind_output({name!r})")
        if buffer_ptr is not None:
            raise InvalidArgumentError(
                f"bind_output({name!r}) into a raw buffer pointer is not supported; bind an "
                "OrtValue with bind_ortvalue_output"
            )
        self._outputs[name] = None

    def bind_ortvalue_output(self, name: str, value: OrtValue) -> None:
        self._outputs[name] = value

    def clear_binding_inputs(self) -> None:
        self._inputs.clear()

    def clear_binding_outputs(self) -> None:
        self._outputs.clear()
        self._results = []

    def synchronize_inputs(self) -> None:
        """CPU memory needs no synchronisation."""

    def synchronize_outputs(self) -> None:
        """CPU memory needs no synchronisation."""

    def get_outputs(self) -> list[OrtValue]:
        return list(self._results)

    def get_outputs_as_ortvaluevector(self) -> list[OrtValue]:
        """The outputs as ORT's OrtValueVector (a list of OrtValues)."""
        return OrtValueVector(self._results)

    def copy_outputs_to_cpu(self) -> list[np.ndarray]:
        return [np.array(v.numpy(), copy=True) for v in self._results]

    def _run(self, run_options: Any = None) -> None:
        """Run the session on the bound inputs (what run_with_iobinding calls)."""
        names = list(self._outputs) or None
        arrays = self._session.run(names, self._inputs, run_options)
        results = []
        for name, array in zip(names or [o.name for o in self._session.get_outputs()], arrays):
            target = self._outputs.get(name)
            if target is None:
                results.append(OrtValue(array))
                continue
            if target.shape() != list(array.shape):
                raise InvalidArgumentError(
                    f"output {name!r} is {list(array.shape)} but the bound OrtValue is "
                    f"{target.shape()}"
                )
            target.update_inplace(array)
            results.append(target)
        self._results = results


def run_async(
    session: RunnableSession,
    output_names: Sequence[str] | None,
    input_feed: Mapping[str, Any],
    callback: Callable[..., None],
    user_data: Any,
    run_options: Any,
) -> None:
    """Run on a worker thread, then callback(outputs, user_data, error_message)."""

    def work() -> None:
        try:
            outputs = session.run(output_names, input_feed, run_options)
        except Exception as exc:  # reported to the callback, as ORT does
            callback([], user_data, f"{type(exc).__name__}: {exc}")
            return
        callback(outputs, user_data, "")

    threading.Thread(target=work, name="xinrt-run-async", daemon=True).start()
