"""Build or fetch corpus models into the cache folder; a failure is recorded, never fatal."""

from __future__ import annotations

import importlib.util
import json
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .entry import ModelEntry, corpus_path
from .progress import Progress


def missing_modules(entry: ModelEntry) -> list[str]:
    """The Python modules the entry's builder needs that are not installed."""
    return [m for m in entry.needs if importlib.util.find_spec(m) is None]


def error_line(exc: BaseException) -> str:
    """`Type: first line of the message`."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:400]


def build_one(entry: ModelEntry, force: bool = False) -> dict[str, Any]:
    """Build `entry` unless its file exists; returns {name, status, reason, seconds}."""
    result: dict[str, Any] = {"name": entry.name, "status": "", "reason": "", "seconds": 0.0}
    path = entry.path
    if path.exists() and not force:
        result["status"] = "cached"
        return result
    missing = missing_modules(entry)
    if missing:
        result.update(
            status="skipped",
            reason=f"needs {', '.join(missing)}: pip install 'xinrt[corpus]'"
            + (" and torchvision" if "torchvision" in missing else ""),
        )
        return result
    if entry.base and not corpus_path(entry.base).exists():
        result.update(status="skipped", reason=f"its base model {entry.base} is not built")
        return result
    start = time.perf_counter()
    partial = path.with_name(path.stem + ".partial.onnx")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        entry.builder(partial)
        partial.replace(path)
        _write_meta(entry, path)
        result["status"] = "built"
    except Exception as exc:  # noqa: BLE001 - a failed build is data
        result.update(status="failed", reason=error_line(exc), trace=traceback.format_exc(-3))
        partial.unlink(missing_ok=True)
    result["seconds"] = round(time.perf_counter() - start, 2)
    return result


def _write_meta(entry: ModelEntry, path: Path) -> None:
    versions = {}
    for module in ("torch", "torchvision", "transformers", "onnxscript", "onnxruntime", "onnx"):
        if importlib.util.find_spec(module) is not None:
            try:
                versions[module] = __import__(module).__version__
            except Exception:  # noqa: BLE001 - a broken optional module is not fatal here
                versions[module] = None
    meta = {"name": entry.name, "group": entry.group, "source": entry.source, "versions": versions}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2))


def build_models(
    models: Sequence[ModelEntry], force: bool = False, progress: bool = True
) -> list[dict[str, Any]]:
    """Build every entry in order, printing a progress line each; returns their results."""
    meter = Progress(len(models), "corpus build", progress)
    results = []
    for entry in models:
        result = build_one(entry, force)
        results.append(result)
        meter.step(entry.name, f"{result['status']} {result['reason']}".strip())
    return results
