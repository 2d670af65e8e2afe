"""Stopping a run in progress: `RunOptions.terminate` set from another thread, `timeout_s`.

`InferenceSession.run` with RunOptions makes one `RunStop` per run, current (a context variable)
while the run goes on; the executor checks it between partitions, and a backend that can stop
inside a partition (the native plan polls between kernels and in every Loop iteration) registers
a hook that `terminate()` calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import ExecutionError, InvalidArgumentError


class RunStop:
    """Whether one run must stop: terminated from outside, or past its deadline."""

    def __init__(self, label: str, timeout_s: float | None = None) -> None:
        self.label = label
        self.timeout_s = timeout_s
        self.deadline = None if timeout_s is None else time.monotonic() + float(timeout_s)
        self._terminated = False
        self._hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def terminate(self) -> None:
        """Stop the run at its next check (any thread); hooks pass it on to running backends."""
        with self._lock:
            self._terminated = True
            hooks = list(self._hooks)
        for hook in hooks:
            hook()

    def add_hook(self, hook: Callable[[], None]) -> None:
        """Call `hook` on terminate() (at once if already terminated)."""
        with self._lock:
            self._hooks.append(hook)
            terminated = self._terminated
        if terminated:
            hook()

    def remove_hook(self, hook: Callable[[], None]) -> None:
        with self._lock:
            if hook in self._hooks:
                self._hooks.remove(hook)

    def remaining_s(self) -> float | None:
        """Seconds left before the deadline (None: no deadline; may be <= 0)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check(self) -> None:
        """Raise ExecutionError when the run must stop."""
        if self._terminated:
            raise ExecutionError(f"{self.label}: run stopped by RunOptions.terminate")
        remaining = self.remaining_s()
        if remaining is not None and remaining <= 0:
            raise ExecutionError(
                f"{self.label}: run stopped after RunOptions.timeout_s = {self.timeout_s} s"
            )


def run_timeout_s(label: str, run_options: object) -> float | None:
    """`run_options.timeout_s` checked: None, or a positive number of seconds."""
    value = getattr(run_options, "timeout_s", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InvalidArgumentError(
            f"{label}: RunOptions.timeout_s must be a positive number of seconds or None, "
            f"got {value!r}"
        )
    return float(value)


_current: ContextVar[RunStop | None] = ContextVar("xinrt_run_stop", default=None)


def current_run_stop() -> RunStop | None:
    """The RunStop of the run this thread is executing, if any."""
    return _current.get()


@contextmanager
def run_stop_scope(label: str, run_options: object) -> Iterator[RunStop]:
    """A RunStop for one run with `run_options` (timeout_s checked), current inside the block and
    registered with the options while it lasts, so that setting `terminate` stops the run."""
    stop = RunStop(label, run_timeout_s(label, run_options))
    active = getattr(run_options, "_active", None)
    registered = isinstance(active, set)
    if registered:
        active.add(stop)  # type: ignore[union-attr]
    if getattr(run_options, "terminate", False):  # set since the caller looked
        stop.terminate()
    token = _current.set(stop)
    try:
        yield stop
    finally:
        _current.reset(token)
        if registered:
            active.discard(stop)  # type: ignore[union-attr]
