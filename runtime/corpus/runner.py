"""Check many corpus models, each in a child process with a time limit; results are written
to the JSON file after every model, so a long run can be read while it goes on."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..bench.harness import machine_info
from .check import TIMED
from .entry import ModelEntry
from .progress import Progress

SCHEMA = "xinrt.corpus/1"


def run_child(
    entry: ModelEntry,
    configs: Sequence[str],
    threads: Sequence[int],
    iterations: int,
    timeout_s: float,
    timed: Sequence[str] = TIMED,
) -> dict[str, Any]:
    """Check `entry` in a child process; a crash, a hang or a bad exit is recorded."""
    with tempfile.TemporaryDirectory(prefix="xinrt-corpus-") as folder:
        out = Path(folder) / "result.json"
        command = [
            sys.executable,
            "-m",
            "xinrt.corpus.child",
            entry.name,
            str(out),
            ",".join(configs),
            ",".join(map(str, threads)),
            str(iterations),
            ",".join(timed),
        ]
        status, detail = "", ""
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
            if done.returncode != 0:
                status = "crashed"
                if done.returncode < 0:
                    detail = f"killed by {signal.Signals(-done.returncode).name}"
                else:
                    tail = done.stderr.strip().splitlines()[-1:] or [""]
                    detail = f"exit {done.returncode}: {tail[0][:300]}"
        except subprocess.TimeoutExpired:
            status, detail = "timeout", f"over {timeout_s:.0f} s"
        result: dict[str, Any] = {
            "name": entry.name,
            "group": entry.group,
            "task": entry.task,
            "source": entry.source,
            "configs": {},
        }
        if out.exists():
            result = json.loads(out.read_text())
        if status:
            for config in configs:  # the configuration that was running when it stopped
                if config not in result.setdefault("configs", {}):
                    result["configs"][config] = {
                        "status": status,
                        "error": detail,
                        "loads": None,
                        "match": None,
                    }
                    break
            result.setdefault("status", status)
            result["child"] = f"{status}: {detail}"
        return result


def check_models(
    models: Sequence[ModelEntry],
    configs: Sequence[str],
    threads: Sequence[int],
    json_path: Path | None,
    iterations: int = 5,
    timeout_s: float = 600,
    progress: bool = True,
    timed: Sequence[str] = TIMED,
) -> dict[str, Any]:
    """Check every model; returns (and writes to `json_path` as it goes) the run's document."""
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "configs": list(configs),
        "threads": list(threads),
        "iterations": iterations,
        "timed": list(timed),
        "machine": machine_info(),
        "models": [],
    }
    meter = Progress(len(models), "corpus check", progress)
    for entry in models:
        result = run_child(entry, configs, threads, iterations, timeout_s, timed)
        document["models"].append(result)
        if json_path is not None:
            _write(json_path, document)
        meter.step(entry.name, summary_line(result))
    return document


def summary_line(result: dict[str, Any]) -> str:
    """`default ok x1.10, ort ok, cpu declined ...` for the progress line."""
    if result.get("status") not in ("checked", None, ""):
        return f"{result.get('status')} {result.get('error', '')}".strip()
    parts = []
    for config, record in result.get("configs", {}).items():
        ratio = record.get("ratio", {}).get("1")
        parts.append(f"{config} {record.get('status')}" + (f" x{ratio}" if ratio else ""))
    return ", ".join(parts)


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=1, default=str))
    os.replace(partial, path)
