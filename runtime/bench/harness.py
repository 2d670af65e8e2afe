"""Run a benchmark: build the targets, pick the inputs, measure interleaved, check accuracy.

`run_benchmark(config)` returns the result document described in `xinrt.bench` (one schema for
every target); `measure_targets` does the measuring part for targets built elsewhere (tests
inject fake ones).
"""

from __future__ import annotations

import datetime
import math
import os
import re
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from ..errors import BackendUnavailableError, InvalidArgumentError, PlacementError
from ..options import PRECISIONS
from . import scenarios
from .scenarios import SCENARIOS, Feeds, Round, Target
from .stats import latency_summary, pair_ratios, ratio_summary

SCHEMA = "xinrt.bench/1"
ORT_NAME = "onnxruntime"  # the raw-ORT baseline target's name
SERVER_ROUND_QUERIES = 16  # Poisson arrivals per server round
OFFLINE_QUERIES_PER_WORKER = 2  # queries each worker runs per offline round
DEFAULT_DURATION_S = 10.0


@dataclass
class BenchConfig:
    """Everything one benchmark run needs; `validate` checks it before any model is loaded."""

    model: Any  # path, bytes or onnx.ModelProto
    model_label: str = ""
    backend_lists: list[list[str]] = field(default_factory=lambda: [[]])  # [] = default chain
    compare_ort: bool = False
    scenario: str = "single-stream"
    threads: int = 0
    batch: int | None = None
    iterations: int | None = None
    duration_s: float | None = None
    min_rounds: int = 1
    max_rounds: int | None = None  # caps a --duration run (e.g. of a microsecond model)
    warmup: int = 2
    concurrency: int = 2
    qps: float | None = None
    target_latency_ms: float = 100.0
    accuracy: bool = False
    rtol: float = 1e-3
    atol: float = 1e-4
    seed: int = 0
    dims: dict[str, int] = field(default_factory=dict)
    precision: str = ""  # SessionOptions.precision of every xinrt target ("" = backend defaults)
    progress: bool = False
    # Idle time, then one unrecorded run, before each target's round when several take turns:
    # ORT's intra-op threads keep spinning for tens of ms after a run and would steal the cores
    # of whatever runs next (xinrt's 2-thread ResNet-50: 29 ms alone, 49 ms right after ORT),
    # and after idling, a runtime's own sleeping workers wake slowly on a VM (xinrt's 2-thread
    # encoder: 3 ms back to back, 9 ms after 50 ms idle). Both would measure the other thing.
    settle_ms: float = 50.0

    def validate(self) -> None:
        """Raise InvalidArgumentError naming the first bad option and what it should be."""
        if self.scenario not in SCENARIOS:
            raise InvalidArgumentError(
                f"unknown scenario {self.scenario!r}; choose one of {', '.join(SCENARIOS)}"
            )
        if self.iterations is not None and self.duration_s is not None:
            raise InvalidArgumentError("give either --duration or --iterations, not both")
        _at_least("--iterations", self.iterations, 1)
        _at_least("--warmup", self.warmup, 0)
        _at_least("--threads", self.threads, 0)
        _at_least("--batch", self.batch, 1)
        _at_least("--concurrency", self.concurrency, 1)
        if self.settle_ms < 0:
            raise InvalidArgumentError(f"--settle-ms must be >= 0, got {self.settle_ms!r}")
        _at_least("--min-rounds", self.min_rounds, 1)
        _at_least("max_rounds", self.max_rounds, self.min_rounds)
        for name, value in (
            ("--duration", self.duration_s),
            ("--qps", self.qps),
            ("--target-latency-ms", self.target_latency_ms),
        ):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InvalidArgumentError(f"{name} must be a number > 0, got {value!r}")
        for name, value in (("--rtol", self.rtol), ("--atol", self.atol)):
            if not (math.isfinite(value) and value >= 0):
                raise InvalidArgumentError(f"{name} must be a number >= 0, got {value!r}")
        if self.scenario == "single-stream" and self.batch not in (None, 1):
            raise InvalidArgumentError(
                f"single-stream runs one sample per query, got --batch {self.batch}; "
                "use --scenario multi-stream (or offline) for batches"
            )
        if self.scenario == "server" and self.qps is None:
            raise InvalidArgumentError("--scenario server needs a target rate: --qps N")
        if self.scenario != "server" and self.qps is not None:
            raise InvalidArgumentError(
                f"--qps applies to --scenario server only (scenario is {self.scenario})"
            )
        if not self.backend_lists:
            raise InvalidArgumentError("no backend list to benchmark; give --backends a,b")
        if self.precision not in PRECISIONS:
            raise InvalidArgumentError(
                f"--precision must be one of {', '.join(p for p in PRECISIONS if p)}, "
                f"got {self.precision!r}"
            )

    @property
    def samples_per_query(self) -> int:
        """--batch, or the scenario's default: 8 for multi-stream and offline, else 1."""
        if self.batch is not None:
            return self.batch
        return 8 if self.scenario in ("multi-stream", "offline") else 1


def _at_least(name: str, value: int | None, low: int) -> None:
    if value is not None and (not isinstance(value, int) or value < low):
        raise InvalidArgumentError(f"{name} must be an integer >= {low}, got {value!r}")


# -- targets ---------------------------------------------------------------------------------


def placement_summary(placement: Any) -> dict[str, Any]:
    """Partitions and nodes per backend, FLOP coverage and boundary tensors of a placement."""
    data = placement.to_dict()
    return {
        "partitions": dict(Counter(p["backend"] for p in data["partitions"])),
        "nodes": dict(Counter(n["backend"] for n in data["nodes"])),
        "coverage": data["coverage"],
        "boundary_tensors": data["boundary_tensors"],
    }


def xinrt_target(model: Any, backends: Sequence[str], threads: int, precision: str = "") -> Target:
    """An xinrt session over `backends` ([] = the default chain), timed as it is created."""
    from ..options import SessionOptions
    from ..session import InferenceSession

    options = SessionOptions(intra_op_num_threads=threads, precision=precision)
    start = time.perf_counter()
    session = InferenceSession(model, options, backends=list(backends) or None)
    created = time.perf_counter() - start
    chain = session.backends
    return Target(
        name=",".join(chain),
        kind="xinrt",
        run=lambda feeds: session.run(None, feeds),
        backends=chain,
        session=session,
        session_create_s=created,
        compile_s=session.timings["compile_s"],
        placement=placement_summary(session.placement),
    )


def ort_target(model: Any, threads: int) -> Target:
    """Raw onnxruntime.InferenceSession on the CPU EP: intra-op `threads`, inter-op 1."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise InvalidArgumentError(
            "--compare ort needs onnxruntime: pip install onnxruntime (or xinrt[ort])"
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    if isinstance(source, Path):
        source = str(source)
    start = time.perf_counter()
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    created = time.perf_counter() - start
    return Target(
        name=ORT_NAME,
        kind="onnxruntime",
        run=lambda feeds: session.run(None, feeds),
        backends=["CPUExecutionProvider"],
        session=session,
        session_create_s=created,
    )


def cannot_run_reason(exc: Exception) -> str:
    """One line from a placement failure: its head and the declined ops with counts."""
    lines = str(exc).strip().splitlines()
    ops = Counter(m.group(1) for line in lines[1:] for m in [re.search(r"\((\w+)", line)] if m)
    listed = ", ".join(f"{op} x{n}" for op, n in ops.most_common())
    detail = f"; declined ops: {listed}; first: {lines[1].strip()}" if listed else ""
    head = lines[0].rstrip(":") if lines else ""
    return f"{type(exc).__name__}: {head}{detail}"


# -- inputs ----------------------------------------------------------------------------------


def plan_inputs(session: Any, config: BenchConfig) -> tuple[Feeds, int, list[str]]:
    """Feeds with the batch dimension set to the samples per query, the runs per query, notes.

    A symbolic batch dim takes the batch size; a static one that differs makes each query that
    many back-to-back runs of the static batch (and says so in the notes).
    """
    from ..cli_args import random_feeds

    batch = config.samples_per_query
    dims = dict(config.dims)
    repeats = 1
    notes: list[str] = []
    for arg in session.get_inputs():
        first = arg.shape[0] if arg.shape else None
        if isinstance(first, str) and first not in dims:
            dims[first] = batch
        elif isinstance(first, int) and first != batch and batch > 1 and repeats == 1:
            repeats = batch // first if first and batch % first == 0 else batch
            notes.append(
                f"input {arg.name!r} has a static batch dimension of {first}, not {batch}: each "
                f"query concatenates {repeats} runs of {first} sample(s)"
            )
    feeds = random_feeds(session, config.seed, dims)
    return feeds, repeats, notes


# -- accuracy --------------------------------------------------------------------------------


def check_accuracy(
    actual: Sequence[np.ndarray], expected: Sequence[np.ndarray], rtol: float, atol: float
) -> dict[str, Any]:
    """Max absolute and relative error over all outputs; passed when |a - e| <= atol + rtol|e|.

    The relative error divides by |e| only where |e| > atol, so near-zero references do not
    make it meaningless. `rel_l2_error` is the worst output's ||a - e|| / ||e|| (the figure
    reduced precisions such as bf16 are judged by). Shape or count mismatches fail with a reason.
    """
    result: dict[str, Any] = {
        "rtol": rtol,
        "atol": atol,
        "max_abs_error": 0.0,
        "max_rel_error": 0.0,
        "rel_l2_error": 0.0,
        "passed": True,
        "reason": "",
    }
    if len(actual) != len(expected):
        result.update(
            passed=False,
            max_abs_error=None,
            max_rel_error=None,
            rel_l2_error=None,
            reason=f"{len(actual)} outputs, reference has {len(expected)}",
        )
        return result
    for index, (a, e) in enumerate(zip(actual, expected)):
        a = np.asarray(a)
        e = np.asarray(e)
        if a.shape != e.shape:
            result.update(
                passed=False,
                reason=f"output {index}: shape {list(a.shape)}, reference {list(e.shape)}",
            )
            continue
        if a.size == 0:
            continue
        a64 = a.astype(np.float64)
        e64 = e.astype(np.float64)
        diff = np.abs(a64 - e64)
        diff = np.where(np.isnan(a64) & np.isnan(e64), 0.0, diff)  # NaN == NaN here
        bad = ~(diff <= atol + rtol * np.abs(e64))  # NaN counts as bad
        big = np.abs(e64) > atol
        rel = float(np.max(diff[big] / np.abs(e64[big]))) if big.any() else 0.0
        result["max_abs_error"] = max(result["max_abs_error"], float(np.nanmax(diff)))
        result["max_rel_error"] = max(result["max_rel_error"], rel)
        norm = float(np.linalg.norm(e64))
        if norm > 0 and np.isfinite(norm):
            l2 = float(np.linalg.norm(np.nan_to_num(a64 - e64, nan=np.inf)) / norm)
            result["rel_l2_error"] = max(result["rel_l2_error"], l2)
        if bad.any():
            result["passed"] = False
            result["reason"] = result["reason"] or (
                f"output {index}: {int(bad.sum())} of {a.size} values outside tolerance"
            )
    return result


def reference_outputs(model: Any, feeds: Feeds) -> list[np.ndarray]:
    """The `reference` backend's outputs for `feeds`: the correctness ceiling."""
    from ..session import InferenceSession

    return InferenceSession(model, backends=["reference"]).run(None, feeds)


# -- measuring -------------------------------------------------------------------------------


def _round_fn(
    config: BenchConfig, feeds: Feeds, repeats: int, pool: ThreadPoolExecutor | None
) -> scenarios.RoundFn:
    if config.scenario in ("single-stream", "multi-stream"):
        return scenarios.single_stream_round(feeds, repeats)
    assert pool is not None
    if config.scenario == "offline":
        return scenarios.offline_round(
            feeds, pool, config.concurrency, OFFLINE_QUERIES_PER_WORKER, repeats
        )
    assert config.qps is not None
    return scenarios.server_round(feeds, pool, config.qps, SERVER_ROUND_QUERIES, config.seed)


COST_METRIC = {
    "single-stream": "latency per query",
    "multi-stream": "latency per query",
    "offline": "wall time per sample (inverse throughput)",
    "server": "mean latency per round of Poisson arrivals",
}


def measure_targets(
    config: BenchConfig,
    targets: Sequence[Target],
    feeds: Feeds,
    repeats: int,
    expected: Sequence[np.ndarray] | None,
) -> dict[str, Any]:
    """First run (and accuracy against `expected`), then interleaved rounds, per target.

    Returns {"results": [...], "comparisons": [...]}; see the schema in `xinrt.bench`.
    """
    entries: list[dict[str, Any]] = []
    for target in targets:
        start = time.perf_counter()
        outputs = target.run(feeds)
        first_run = time.perf_counter() - start
        entry = _entry(target, "ok", "")
        entry["first_run_ms"] = first_run * 1e3
        if expected is not None:
            entry["accuracy"] = check_accuracy(outputs, expected, config.rtol, config.atol)
        entries.append(entry)
    iterations, duration = config.iterations, config.duration_s
    if iterations is None and duration is None:
        duration = DEFAULT_DURATION_S
    with ThreadPoolExecutor(max_workers=config.concurrency) as pool:
        one_round = _round_fn(config, feeds, repeats, pool)
        rounds = scenarios.interleave(
            targets,
            one_round,
            warmup=config.warmup,
            iterations=iterations,
            duration_s=duration,
            min_rounds=config.min_rounds,
            max_rounds=config.max_rounds,
            progress=config.progress,
            label=config.model_label,
            settle_s=config.settle_ms / 1e3 if len(targets) > 1 else 0.0,
        )
    for entry, target in zip(entries, targets):
        entry.update(_round_stats(rounds[target.name], config, repeats))
    comparisons = []
    if any(t.name == ORT_NAME for t in targets):
        baseline = [r.cost_s for r in rounds[ORT_NAME]]
        for target in targets:
            if target.name == ORT_NAME:
                continue
            ratios = pair_ratios([r.cost_s for r in rounds[target.name]], baseline)
            comparisons.append(
                {
                    "target": target.name,
                    "baseline": ORT_NAME,
                    "metric": COST_METRIC[config.scenario],
                    "ratio": ratio_summary(ratios),
                }
            )
    return {"results": entries, "comparisons": comparisons}


def _entry(target: Target, status: str, reason: str) -> dict[str, Any]:
    return {
        "name": target.name,
        "kind": target.kind,
        "backends": list(target.backends),
        "status": status,
        "reason": reason,
        "session_create_s": target.session_create_s,
        "compile_s": target.compile_s,
        "first_run_ms": None,
        "placement": target.placement,
        "samples_per_query": None,
        "runs_per_query": None,
        "rounds": 0,
        "latency_ms": latency_summary([]),
        "throughput_samples_per_s": None,
        "server": None,
        "accuracy": None,
        "latencies_ms": [],
    }


def _round_stats(rounds: list[Round], config: BenchConfig, repeats: int) -> dict[str, Any]:
    latencies = [t for r in rounds for t in r.latencies_s]
    elapsed = sum(r.elapsed_s for r in rounds)
    samples = sum(r.samples for r in rounds)
    stats: dict[str, Any] = {
        "samples_per_query": config.samples_per_query,
        "runs_per_query": repeats,
        "rounds": len(rounds),
        "latency_ms": latency_summary(latencies),
        "throughput_samples_per_s": samples / elapsed if elapsed > 0 else None,
        "latencies_ms": [round(t * 1e3, 4) for t in latencies],
    }
    if config.scenario == "server":
        p99 = stats["latency_ms"]["p99"]
        queries = len(latencies)
        stats["server"] = {
            "target_qps": config.qps,
            "achieved_qps": queries / elapsed if elapsed > 0 else None,
            "target_latency_ms": config.target_latency_ms,
            "p99_ms": p99,
            "meets_target": p99 is not None and p99 <= config.target_latency_ms,
        }
    return stats


def peak_rss_mib() -> float | None:
    """Peak resident set size of this process (VmHWM, else ru_maxrss), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    except (ImportError, OSError):
        return None


def run_benchmark(
    config: BenchConfig, reference_cache: dict[Any, list[np.ndarray]] | None = None
) -> dict[str, Any]:
    """Benchmark every backend list in `config` (and raw ORT with compare_ort) on one model.

    A backend list that cannot run the model is recorded as status "cannot run" with the
    reason. `reference_cache` keeps reference outputs across calls on the same model and feeds.
    """
    config.validate()
    label = config.model_label or _model_label(config.model)
    config.model_label = label
    targets: list[Target] = []
    skipped: list[dict[str, Any]] = []
    for chain in config.backend_lists:
        try:
            targets.append(xinrt_target(config.model, chain, config.threads, config.precision))
        except (PlacementError, BackendUnavailableError) as exc:
            failed = Target(
                name=",".join(chain) or "default", kind="xinrt", run=_not_run, backends=list(chain)
            )
            skipped.append(_entry(failed, "cannot run", cannot_run_reason(exc)))
    if config.compare_ort:
        targets.append(ort_target(config.model, config.threads))
    seen: Counter[str] = Counter()
    for target in targets:  # two lists may resolve to the same chain: keep names unique
        seen[target.name] += 1
        if seen[target.name] > 1:
            target.name = f"{target.name}#{seen[target.name]}"
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "model": label,
        "scenario": config.scenario,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config": _config_dict(config),
        "machine": machine_info(),
        "notes": [],
        "peak_rss_mib": None,
        "results": [],
        "comparisons": [],
    }
    if targets:
        feeds, repeats, notes = plan_inputs(targets[0].session, config)
        document["notes"].extend(notes)
        expected = None
        if config.accuracy:
            key = (label, config.seed, tuple(sorted((k, v.shape) for k, v in feeds.items())))
            cache = reference_cache if reference_cache is not None else {}
            if key not in cache:
                cache[key] = reference_outputs(config.model, feeds)
            expected = cache[key]
        document.update(measure_targets(config, targets, feeds, repeats, expected))
    document["results"].extend(skipped)
    document["peak_rss_mib"] = peak_rss_mib()
    return document


def _model_label(model: Any) -> str:
    if isinstance(model, onnx.ModelProto):
        return model.graph.name or "<ModelProto>"
    return "<bytes>" if isinstance(model, (bytes, bytearray)) else str(model)


def _not_run(feeds: Feeds) -> list[np.ndarray]:
    raise RuntimeError("this target could not be created")


def _config_dict(config: BenchConfig) -> dict[str, Any]:
    data = asdict(config)
    data.pop("model")
    data.pop("progress")
    data["samples_per_query"] = config.samples_per_query
    return data


def machine_info() -> dict[str, Any]:
    """CPU model, logical CPUs, SIMD flags that matter, and the versions of what ran."""
    import platform

    info: dict[str, Any] = {
        "cpu_model": platform.processor() or platform.machine(),
        "logical_cpus": os.cpu_count(),
        "simd_flags": [],
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        flags = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
        if model:
            info["cpu_model"] = model.group(1).strip()
        if flags:
            wanted = (
                "sse4_2",
                "avx",
                "avx2",
                "fma",
                "f16c",
                "avx512f",
                "avx512bw",
                "avx512vl",
                "avx512_vnni",
                "avx_vnni",
                "avx512_bf16",
                "amx_tile",
                "neon",
                "asimd",
            )
            have = set(flags.group(1).split())
            info["simd_flags"] = [f for f in wanted if f in have]
    except OSError:
        pass
    versions: dict[str, Any] = {}
    for module in ("numpy", "onnx", "onnxruntime", "onnx_ir"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = None
    from .. import __version__

    versions["xinrt"] = __version__
    try:
        from .. import _native  # type: ignore[attr-defined]

        native = _native.build_info()
        versions["xinrt_native"] = {
            k: native.get(k) for k in ("build_id", "compiler", "simd_selected")
        }
    except ImportError:
        versions["xinrt_native"] = None
    info["versions"] = versions
    return info
