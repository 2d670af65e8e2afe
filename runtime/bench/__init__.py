"""Benchmarks: `xinrt bench` and the suite in bench/suite.py.

Targets (an xinrt session per backend list, and raw ONNX Runtime with `--compare ort`) take
turns round by round (A B A B ...), so a noisy machine slows them alike; the number to quote is
the per-pair ratio xinrt / ORT (median, min, max), not a difference of two separate runs.

Scenarios: single-stream (one sample per query), multi-stream (N samples per query), offline
(throughput: several threads call run on one session), server (Poisson arrivals at --qps; does
p99 stay under --target-latency-ms?).

Result document (`xinrt bench --json`, and each element of `runs` in bench/results.json):

    schema            "xinrt.bench/1"
    model             path or graph name
    scenario          single-stream | multi-stream | offline | server
    date              ISO 8601, UTC
    command           the command line when run as `xinrt bench`, else null
    config            the BenchConfig used: backend_lists, compare_ort, threads, batch,
                      samples_per_query, iterations, duration_s, min_rounds, warmup, concurrency,
                      qps, target_latency_ms, accuracy, rtol, atol, seed, dims, model_label
    machine           cpu_model, logical_cpus, simd_flags, platform, python,
                      versions {numpy, onnx, onnxruntime, onnx_ir, xinrt, xinrt_native}
    notes             strings, e.g. "static batch dimension: each query concatenates N runs"
    peak_rss_mib      peak resident memory of the whole process (VmHWM / ru_maxrss)
    results           one entry per target, the same keys for every backend:
      name              "cpu", "cpu,ort,reference", ... or "onnxruntime" (raw ORT)
      kind              "xinrt" | "onnxruntime"
      backends          the resolved backend chain (["CPUExecutionProvider"] for raw ORT)
      status            "ok" | "cannot run"
      reason            why it cannot run ("" when ok)
      session_create_s  session construction: load, placement and compile
      compile_s         time inside backend compile calls (null for raw ORT)
      first_run_ms      the first run, before warm-up
      placement         {partitions: {backend: n}, nodes: {backend: n},
                         coverage: {backend: FLOP share}, boundary_tensors: n} (null for ORT)
      samples_per_query, runs_per_query (>1 when a static batch dim is concatenated), rounds
      latency_ms        {count, mean, min, p50, p90, p99, max} per query, in milliseconds
      throughput_samples_per_s   samples / wall time of the measured rounds
      server            {target_qps, achieved_qps, target_latency_ms, p99_ms, meets_target}
                        for the server scenario, else null
      accuracy          {rtol, atol, max_abs_error, max_rel_error, rel_l2_error, passed,
                        reason} against the reference backend with --accuracy, else null
                        (rel_l2_error: the worst output's ||got - ref|| / ||ref||)
      latencies_ms      every measured query's latency, in order
    comparisons       one per xinrt target when raw ORT ran:
      target, baseline ("onnxruntime"), metric (what was compared, per scenario),
      ratio {pairs, median, min, max, geomean} of target / baseline, pair by pair (>1: slower)
"""

from __future__ import annotations

from .harness import BenchConfig, check_accuracy, measure_targets, run_benchmark
from .scenarios import SCENARIOS, Round, Target, interleave
from .stats import geometric_mean, latency_summary, pair_ratios, ratio_summary

__all__ = [
    "SCENARIOS",
    "BenchConfig",
    "Round",
    "Target",
    "check_accuracy",
    "geometric_mean",
    "interleave",
    "latency_summary",
    "measure_targets",
    "pair_ratios",
    "ratio_summary",
    "run_benchmark",
]
