"""The parts of ORT's InferenceSession API beyond run(): providers, OrtValues, IOBinding,
run_async, profiling. A mixin, so session.py keeps to loading, placing and running."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .ort_api import IOBinding, OrtValue, RunOptions, provider_names, run_async

if TYPE_CHECKING:
    from .session import NodeArg


class OrtSessionMethods:
    """ORT's session methods, written on top of InferenceSession.run()."""

    # provided by InferenceSession
    _backend_names: list[str]
    _backend_options: dict[str, dict[str, Any]]
    _profile: list[tuple[str, int, int]] | None
    _profile_start_ns: int
    _overridable_args: list[NodeArg]
    _profile_prefix: str

    def run(
        self, output_names: Sequence[str] | None, input_feed: Any, run_options: Any = None
    ) -> list[np.ndarray]:
        raise NotImplementedError

    def get_providers(self) -> list[str]:
        """ORT names for this session's backends: `ort:<ep>` gives its EP, and xinrt's own CPU
        backends (cpu, reference) appear as CPUExecutionProvider. `placement` says exactly."""
        return provider_names(self._backend_names)

    def get_provider_options(self) -> dict[str, dict[str, Any]]:
        names = provider_names(self._backend_names)
        options: dict[str, dict[str, Any]] = {name: {} for name in names}
        for backend, opts in self._backend_options.items():
            options[provider_names([backend])[0]].update({k: str(v) for k, v in opts.items()})
        return options

    def get_overridable_initializers(self) -> list[NodeArg]:
        """Initializers listed among the graph inputs of an IR >= 4 model: a feed of that name
        replaces the initializer for that run (as in ORT; IR < 4 ones are constants)."""
        return list(self._overridable_args)

    def run_with_ort_values(
        self,
        output_names: Sequence[str] | None,
        input_dict_ort_values: dict[str, OrtValue],
        run_options: RunOptions | None = None,
    ) -> list[OrtValue]:
        feeds = {name: value.numpy() for name, value in input_dict_ort_values.items()}
        return [OrtValue(a) for a in self.run(output_names, feeds, run_options)]

    def io_binding(self) -> IOBinding:
        return IOBinding(self)  # type: ignore[arg-type]

    def run_with_iobinding(
        self, iobinding: IOBinding, run_options: RunOptions | None = None
    ) -> None:
        iobinding._run(run_options)

    def run_async(
        self,
        output_names: Sequence[str] | None,
        input_feed: dict[str, Any],
        callback: Callable[..., None],
        user_data: Any = None,
        run_options: RunOptions | None = None,
    ) -> None:
        """Returns at once; callback(outputs, user_data, error_message) runs on another thread."""
        run_async(self, output_names, input_feed, callback, user_data, run_options)  # type: ignore[arg-type]

    def end_profiling(self) -> str:
        """Write the recorded partition times as a Chrome trace JSON; returns its file name
        ("" when profiling was not enabled, as ORT does)."""
        if self._profile is None:
            return ""
        path = f"{self._profile_prefix}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.json"
        events = [
            {
                "name": label,
                "ph": "X",
                "ts": (start - self._profile_start_ns) / 1e3,
                "dur": duration / 1e3,
                "pid": 0,
                "tid": 0,
                "cat": "partition",
            }
            for label, start, duration in list(self._profile)
        ]
        with open(path, "w") as handle:
            json.dump(events, handle)
        self._profile.clear()
        return path

    def get_profiling_start_time_ns(self) -> int:
        return self._profile_start_ns

    def disable_fallback(self) -> None:
        """Accepted for compatibility: xinrt's fallback is the backend list (or strict=True)."""

    def enable_fallback(self) -> None:
        """Accepted for compatibility: xinrt's fallback is the backend list (or strict=True)."""
