"""A plain progress bar on stderr: one line per step, so logs read well too."""

from __future__ import annotations

import sys
import time


class Progress:
    """`[ 3/50] name: what happened (seconds)` lines with a bar, on stderr."""

    def __init__(self, total: int, label: str, enabled: bool = True) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.label = label
        self.enabled = enabled
        self.start = time.perf_counter()

    def step(self, name: str, outcome: str) -> None:
        """Count one item as done and print its line."""
        self.done += 1
        if not self.enabled:
            return
        width = 20
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "." * (width - filled)
        elapsed = time.perf_counter() - self.start
        print(
            f"{self.label} [{bar}] {self.done}/{self.total} {elapsed:6.0f}s  {name}: {outcome}",
            file=sys.stderr,
            flush=True,
        )
