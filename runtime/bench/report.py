"""Show a benchmark result: a terminal table, the JSON file, a latency chart."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError


def _ms(value: float | None, width: int = 8) -> str:
    return f"{value:>{width}.4g}" if value is not None else f"{'-':>{width}}"


def _seconds(value: float | None, width: int) -> str:
    return f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"


def _accuracy_text(accuracy: dict[str, Any] | None) -> str:
    if accuracy is None:
        return "-"
    verdict = "pass" if accuracy["passed"] else "FAIL"
    abs_error = accuracy["max_abs_error"]
    rel_error = accuracy["max_rel_error"]
    if abs_error is None:
        return f"{verdict} ({accuracy['reason']})"
    l2 = accuracy.get("rel_l2_error")
    return f"{verdict} abs {abs_error:.1e} rel {rel_error:.1e}" + (
        f" l2 {l2:.1e}" if l2 is not None else ""
    )


def format_table(document: dict[str, Any]) -> str:
    """The result document as a readable terminal report."""
    config = document["config"]
    ran = [r for r in document["results"] if r["status"] == "ok"]
    rounds = ran[0]["rounds"] if ran else 0
    threads = config["threads"] or "default"
    lines = [
        f"xinrt bench {document['model']}: {document['scenario']}, threads {threads}, "
        f"{config['samples_per_query']} sample(s)/query, {rounds} rounds per target after "
        f"{config['warmup']} warm-up, interleaved",
        f"  {'target':<22} {'create s':>8} {'compile s':>9} {'first ms':>8} {'mean':>8} "
        f"{'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'samples/s':>10}  accuracy",
    ]
    for r in ran:
        lat = r["latency_ms"]
        create = _seconds(r["session_create_s"], 8)
        compile_ = _seconds(r["compile_s"], 9)
        throughput = r["throughput_samples_per_s"]
        lines.append(
            f"  {r['name']:<22} {create} {compile_} {_ms(r['first_run_ms'])} {_ms(lat['mean'])} "
            f"{_ms(lat['p50'])} {_ms(lat['p90'])} {_ms(lat['p99'])} {_ms(lat['max'])} "
            f"{throughput if throughput is not None else 0:>10.1f}  {_accuracy_text(r['accuracy'])}"
        )
    lines.append("  (latencies in ms per query)")
    placed = [r for r in ran if r["placement"]]
    if placed:
        lines.append("placement:")
        for r in placed:
            p = r["placement"]
            parts = ", ".join(f"{b} x{n}" for b, n in p["partitions"].items())
            cover = ", ".join(f"{b} {share:.1%}" for b, share in p["coverage"].items())
            lines.append(
                f"  {r['name']:<22} partitions {parts}; FLOP coverage {cover}; "
                f"{p['boundary_tensors']} boundary tensors"
            )
    failed = [r for r in document["results"] if r["status"] != "ok"]
    if failed:
        lines.append("cannot run:")
    for r in failed:
        lines.append(f"  {r['name']:<22} {r['reason']}")
    for r in ran:
        server = r["server"]
        if server:
            verdict = "meets" if server["meets_target"] else "MISSES"
            lines.append(
                f"server {r['name']}: p99 {_ms(server['p99_ms'], 0)} ms {verdict} the "
                f"{server['target_latency_ms']:g} ms target at {server['achieved_qps']:.1f} qps "
                f"achieved (target {server['target_qps']:g} qps)"
            )
    for c in document["comparisons"]:
        ratio = c["ratio"]
        if ratio["pairs"]:
            lines.append(
                f"ratio {c['target']} / {c['baseline']} ({c['metric']}, {ratio['pairs']} pairs): "
                f"median {ratio['median']:.3f}x  [min {ratio['min']:.3f}, max {ratio['max']:.3f}]"
                "  (>1: slower than the baseline)"
            )
    if document.get("peak_rss_mib") is not None:
        lines.append(f"peak RSS of the process: {document['peak_rss_mib']:.0f} MiB")
    for note in document.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)


def json_safe(value: Any) -> Any:
    """The value with NaN and infinities turned into None, so the JSON is strict."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(document: Any, path: str | Path) -> None:
    """Write a result document as strict, indented JSON."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(json_safe(document), indent=1, allow_nan=False) + "\n")


def pyplot() -> Any:
    """matplotlib.pyplot on the file-only Agg backend; InvalidArgumentError if not installed."""
    try:
        import matplotlib
    except ImportError:
        raise InvalidArgumentError(
            "--plot needs matplotlib, which is optional: pip install matplotlib "
            "(or pip install 'xinrt[plot]')"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_latencies(document: dict[str, Any], path: str | Path) -> None:
    """A PNG of each target's per-query latency distribution (box plot over the raw points)."""
    plt = pyplot()
    ran = [r for r in document["results"] if r["status"] == "ok" and r["latencies_ms"]]
    if not ran:
        raise InvalidArgumentError("--plot: no target ran, so there is no latency to plot")
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.7 * len(ran)))
    data = [r["latencies_ms"] for r in ran]
    import matplotlib

    major, minor = (int(p) for p in matplotlib.__version__.split(".")[:2])
    sideways = {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}
    ax.boxplot(data, whis=(1, 99), showfliers=False, **sideways)
    for row, values in enumerate(data, start=1):
        jitter = [row + 0.15 * (((i * 7919) % 100) / 100 - 0.5) for i in range(len(values))]
        ax.scatter(values, jitter, s=4, alpha=0.35)
    ax.set_yticks(range(1, len(ran) + 1), [r["name"] for r in ran])
    ax.set_xlabel("latency per query (ms); box: p25-p75, whiskers: p1-p99")
    ax.set_title(
        f"{Path(str(document['model'])).name}: {document['scenario']}, "
        f"threads {document['config']['threads'] or 'default'}"
    )
    low = min(min(v) for v in data)
    if low > 0 and max(max(v) for v in data) / low > 20:
        ax.set_xscale("log")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
