"""Helpers for SDK adapters (`backends/<sdk>/worker.py`), on the worker side of the pipe.

Imported inside the SDK's venv as a top-level module (`import sdk_tools`): standard library
only, never xinrt.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


class Captured:
    """Text an SDK printed (C and Python, stdout and stderr) inside `capture_output()`."""

    text: str = ""


@contextlib.contextmanager
def capture_output() -> Iterator[Captured]:
    """Collect everything written to file descriptors 1 and 2 (SDK logs, native prints).

    The text is copied to stderr afterwards too, so a crash report still shows it."""
    captured = Captured()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            captured.text = sink.read().decode("utf-8", "replace")
            sys.stderr.write(captured.text[-20000:])
            sys.stderr.flush()


def error_lines(log: str, markers: tuple[str, ...] = ("E ", "Error", "error:")) -> str:
    """The lines of an SDK log that carry its own error message, joined (at most 5)."""
    found = [line.strip() for line in log.splitlines() if line.strip().startswith(markers)]
    return " | ".join(found[-5:])
