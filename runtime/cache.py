"""Where xinrt keeps what it learns between processes (capability probes, compiled artifacts)."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path


def cache_dir() -> Path:
    """$XINRT_CACHE_DIR, else $XDG_CACHE_HOME/xinrt, else ~/.cache/xinrt."""
    explicit = os.environ.get("XINRT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xinrt"


class JsonCache:
    """A small string -> string map persisted as one JSON file, written atomically."""

    def __init__(self, name: str) -> None:
        self.path = cache_dir() / f"{name}.json"
        self._lock = threading.Lock()
        self._dirty = False
        try:
            self._data: dict[str, str] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self._data = {}

    def get(self, key: str) -> str | None:
        return self._data.get(key)

    def items(self) -> list[tuple[str, str]]:
        """Every (key, value), e.g. for `xinrt cache ls`."""
        with self._lock:
            return list(self._data.items())

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self._data[key] = value
            self._dirty = True

    def flush(self) -> None:
        """Write the file if anything changed; a read-only cache folder is not an error."""
        with self._lock:
            if not self._dirty:
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
                with os.fdopen(fd, "w") as handle:
                    json.dump(self._data, handle)
                os.replace(tmp, self.path)
                self._dirty = False
            except OSError:
                pass
