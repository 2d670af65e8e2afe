"""Check one corpus model in every configuration against raw ONNX Runtime: loads?, placement,
match, latency ratio. Every failure becomes data in the result, never an exception."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..bench.harness import BenchConfig, measure_targets, ort_target, xinrt_target
from ..errors import PlacementError
from .build import error_line
from .compare import compare_outputs
from .entry import ModelEntry
from .feeds import make_feeds

# configuration name -> backend list ([] = the default chain)
CONFIGS: dict[str, list[str]] = {
    "default": [],
    "ort": ["ort"],
    "cpu": ["cpu"],
    "reference": ["reference"],
}
TIMED = ("default",)  # configurations timed by default: what users get
SEED = 0


def ort_outputs(path: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Raw onnxruntime's answer (CPU EP, default options): what xinrt must match."""
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return list(session.run(None, feeds))


def placement_info(session: Any) -> dict[str, Any]:
    """Partitions, FLOP share and node count per backend, and the ops each backend declined."""
    report = session.placement
    declined: dict[str, Counter[str]] = {}
    for node in report.nodes:
        for backend in node.declined:
            declined.setdefault(backend, Counter())[node.op_type] += 1
    return {
        "partitions": len(report.partitions),
        "partitions_per_backend": dict(Counter(p.backend for p in report.partitions)),
        "share": {k: round(v, 4) for k, v in report.coverage().items()},
        "nodes": dict(Counter(n.backend for n in report.nodes)),
        "declined": {b: dict(c) for b, c in declined.items()},
    }


# A timed query of a fast model repeats its run up to this long: one 0.1 ms call after the
# harness's idle settle measures the scheduler more than the model.
MIN_QUERY_S = 0.005
MAX_RUNS_PER_QUERY = 100


def latency_ratio(
    path: str, backends: list[str], threads: int, feeds: dict[str, np.ndarray], iterations: int
) -> float | None:
    """Median per-pair latency ratio xinrt / raw ORT at `threads`, measured interleaved (a
    query repeats a run of under MIN_QUERY_S, the same count for both)."""
    config = BenchConfig(model=path, iterations=iterations, warmup=2, threads=threads)
    targets = [xinrt_target(path, backends, threads), ort_target(path, threads)]
    measured = measure_targets(config, targets, feeds, _runs_per_query(targets[1], feeds), None)
    ratio = measured["comparisons"][0]["ratio"]["median"]
    return None if ratio is None else round(float(ratio), 3)


def _runs_per_query(target: Any, feeds: dict[str, np.ndarray]) -> int:
    """How many runs make a query of at least MIN_QUERY_S, from raw ORT's fastest of three."""
    fastest = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        target.run(feeds)
        fastest = min(fastest, time.perf_counter() - start)
    return max(1, min(MAX_RUNS_PER_QUERY, int(MIN_QUERY_S / max(fastest, 1e-9))))


def check_config(
    entry: ModelEntry,
    config: str,
    feeds: dict[str, np.ndarray],
    expected: list[np.ndarray],
    threads: Sequence[int],
    iterations: int,
) -> dict[str, Any]:
    """One model in one configuration: status ok / mismatch / declined / load error / run error;
    the latency ratio at each of `threads` (none when empty) if it matches."""
    from ..session import InferenceSession

    path = str(entry.path)
    backends = CONFIGS[config]
    record: dict[str, Any] = {
        "status": "",
        "error": "",
        "loads": False,
        "match": None,
        "placement": None,
        "compare": None,
        "ratio": {},
    }
    start = time.perf_counter()
    try:
        session = InferenceSession(path, backends=backends or None)
    except PlacementError as exc:
        status = "declined" if len(backends) == 1 else "load error"
        record.update(status=status, error=error_line(exc), declined=_declined_ops(str(exc)))
        return record
    except Exception as exc:  # noqa: BLE001 - a model that fails to load is data
        record.update(status="load error", error=error_line(exc))
        return record
    record["loads"] = True
    record["load_s"] = round(time.perf_counter() - start, 3)
    try:
        actual = session.run(None, feeds)
    except Exception as exc:  # noqa: BLE001
        record.update(status="run error", error=error_line(exc))
        return record
    finally:  # after the first run, which may place again on its inputs (first_run.py)
        try:
            record["placement"] = placement_info(session)
        except Exception as exc:  # noqa: BLE001
            record["placement_error"] = error_line(exc)
    compared = compare_outputs(actual, expected, entry.quantized, entry.argmax_outputs)
    record["compare"] = compared
    record["match"] = compared["match"]
    record["status"] = "ok" if compared["match"] else "mismatch"
    if compared["match"]:
        for count in threads:
            try:
                record["ratio"][str(count)] = latency_ratio(
                    path, backends, count, feeds, iterations
                )
            except Exception as exc:  # noqa: BLE001
                record["ratio"][str(count)] = None
                record["ratio_error"] = error_line(exc)
    return record


def _describe_feed(value: Any) -> list[Any]:
    """[dtype, shape] of an array feed; ["dict", [entries]] of a map feed."""
    if isinstance(value, dict):
        return ["dict", [len(value)]]
    return [str(value.dtype), list(value.shape)]


def _declined_ops(message: str) -> dict[str, int]:
    """Op counts from a PlacementError's per-node lines `name (Op) ...`."""
    import re

    ops: Counter[str] = Counter()
    for line in message.splitlines()[1:]:
        found = re.search(r"\((\w+)[,)]", line)
        if found:
            ops[found.group(1)] += 1
    return dict(ops)


def check_model(
    entry: ModelEntry,
    configs: Sequence[str],
    threads: Sequence[int],
    iterations: int = 5,
    timed: Sequence[str] = TIMED,
    on_config: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Check `entry` in each of `configs`, timing those in `timed` at each of `threads`;
    `on_config` sees the result after each configuration."""
    result: dict[str, Any] = {
        "name": entry.name,
        "group": entry.group,
        "task": entry.task,
        "source": entry.source,
        "quantized": entry.quantized,
        "status": "",
        "error": "",
        "configs": {},
    }
    if not entry.path.exists():
        result.update(
            status="not built",
            error=f"{entry.path.name} is not in the corpus folder; run `xinrt corpus build`",
        )
        return result
    try:
        feeds = make_feeds(entry.path, entry.feeds, SEED)
        result["inputs"] = {k: _describe_feed(v) for k, v in feeds.items()}
        expected = ort_outputs(str(entry.path), feeds)
    except Exception as exc:  # noqa: BLE001 - ORT itself refusing is data too
        result.update(status="ort fails", error=error_line(exc))
        return result
    result["status"] = "checked"
    for config in configs:
        counts = threads if config in timed else ()
        result["configs"][config] = check_config(entry, config, feeds, expected, counts, iterations)
        if on_config is not None:
            on_config(result)
    return result
