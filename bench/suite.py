"""The xinrt benchmark suite: every model x backend list x thread count, against raw ORT.

    .venv/bin/python bench/suite.py                 # writes bench/results.json, RESULTS.md, PNG
    .venv/bin/python bench/suite.py --models resnet50,one_node --threads 1 --duration 2

Models: the onnx wheel's 9 light models with seeded random weights, a BERT-style encoder
(4 layers, hidden 256, 4 heads, sequence 128, batch 1) and a one-node Add (per-run overhead).
Each (model, backend list, threads) is one `run_benchmark` with raw ONNX Runtime interleaved
(A B A B ...) and outputs checked against the reference backend; the figure quoted is the
median of per-pair ratios xinrt time / ORT time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import onnx

from xinrt.bench.harness import BenchConfig, machine_info, run_benchmark
from xinrt.bench.models import one_node_model, transformer_encoder
from xinrt.bench.report import pyplot, write_json
from xinrt.bench.stats import geometric_mean
from xinrt.testing import LIGHT_MODELS, randomized_light_model

BACKEND_LISTS = {
    "cpu": ["cpu"],
    "ort": ["ort"],
    "default": ["cpu", "ort", "reference"],
    "priority": ["cpu", "ort", "reference"],
}
# "default" is the default chain as users get it (placement "fastest"); "priority" the same
# chain placed by priority order alone (each node on the first backend that claims it).
PLACEMENT_OF = {"priority": "priority"}
MODELS = (*LIGHT_MODELS, "bert_encoder", "one_node")
HERE = Path(__file__).resolve().parent


def build_model(name: str) -> onnx.ModelProto:
    """A suite model by name: a light model with random weights, the encoder, or one Add."""
    if name == "bert_encoder":
        return transformer_encoder(layers=4, hidden=256, heads=4, sequence=128, batch=1)
    if name == "one_node":
        return one_node_model(16)
    return randomized_light_model(name, seed=0)


def run_suite(
    models: list[str],
    threads: list[int],
    lists: list[str],
    duration_s: float,
    min_rounds: int,
    max_rounds: int,
    workdir: Path,
) -> list[dict[str, Any]]:
    """One result document per (model, backend list, threads), models built once each."""
    documents = []
    for model_name in models:
        path = workdir / f"{model_name}.onnx"
        onnx.save(build_model(model_name), str(path))
        reference_cache: dict[Any, Any] = {}
        for count in threads:
            for list_name in lists:
                config = BenchConfig(
                    model=str(path),
                    model_label=model_name,
                    backend_lists=[BACKEND_LISTS[list_name]],
                    compare_ort=True,
                    threads=count,
                    duration_s=duration_s,
                    min_rounds=min_rounds,
                    max_rounds=max_rounds,
                    warmup=2,
                    accuracy=True,
                )
                start = time.perf_counter()
                os.environ["XINRT_PLACEMENT"] = PLACEMENT_OF.get(list_name, "fastest")
                document = run_benchmark(config, reference_cache=reference_cache)
                for result in document["results"]:
                    result["latencies_ms"] = []  # keeps results.json small; stats stay
                document["suite"] = {
                    "model": model_name,
                    "backend_list": list_name,
                    "threads": count,
                }
                documents.append(document)
                print(
                    f"{model_name:<14} {list_name:<8} threads {count}: "
                    f"{_cell(document)}  ({time.perf_counter() - start:.1f} s)",
                    flush=True,
                )
        path.unlink()
    return documents


def _xinrt_result(document: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in document["results"] if r["kind"] == "xinrt")


def _cell(document: dict[str, Any]) -> str:
    result = _xinrt_result(document)
    if result["status"] != "ok":
        return "cannot run"
    ratio = document["comparisons"][0]["ratio"]
    text = f"{ratio['median']:.2f} [{ratio['min']:.2f}-{ratio['max']:.2f}]"
    if result["accuracy"] is not None and not result["accuracy"]["passed"]:
        text += " WRONG"
    return text


def _lscpu() -> str:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


HAND_WRITTEN_MARKER = "<!-- Hand-written sections below: bench/suite.py keeps them. -->"


def write_markdown(
    documents: list[dict[str, Any]],
    models: list[str],
    threads: list[int],
    lists: list[str],
    meta: dict[str, Any],
    path: Path,
    chart: str,
) -> None:
    """RESULTS.md: ratio tables, geometric means, absolute latencies, machine and command."""
    by_key = {
        (d["suite"]["model"], d["suite"]["backend_list"], d["suite"]["threads"]): d
        for d in documents
    }
    columns = [(name, count) for count in threads for name in lists]
    machine = meta["machine"]
    lines = [
        "# xinrt benchmark results",
        "",
        f"Date: {meta['date']}. Suite run time: {meta['suite_seconds'] / 60:.1f} min.",
        "",
        f"Command (from the repository root): `{meta['command']}`",
        "",
        f"Machine: {machine['cpu_model']}, {machine['logical_cpus']} logical CPUs, SIMD "
        f"{', '.join(machine['simd_flags'])}; {machine['platform']}; shared and noisy, hence "
        "interleaved runs. Versions: "
        + ", ".join(
            f"{k} {v if not isinstance(v, dict) else v.get('build_id')}"
            for k, v in machine["versions"].items()
        )
        + ".",
        "",
        "## xinrt time / ONNX Runtime time",
        "",
        "Each cell: the median of per-pair ratios, [min-max] over the pairs. A pair is one "
        "xinrt run and one raw `onnxruntime.InferenceSession` run (CPU EP, same intra-op "
        "threads, inter-op 1), each after 50 ms idle and one unrecorded run of the same runtime "
        "(ORT's threads spin for tens of ms after a run and would otherwise slow whatever runs "
        "next; sleeping workers wake slowly), single-stream, batch 1; >1 means "
        "xinrt is slower. "
        f"{meta['settings']['duration_s']:g} s of pairs per cell (at least "
        f"{meta['settings']['min_rounds']}, at most {meta['settings']['max_rounds']}) after 2 "
        "warm-up pairs. Backend lists: `cpu` (native kernels alone), `ort` (xinrt's ORT backend "
        "alone: xinrt's overhead over ORT), `default` (`cpu,ort,reference` as users get it: "
        "placement `fastest`, with fallback), `priority` (the same chain placed by priority "
        "order). "
        "Outputs are checked against the `reference` backend (rtol 1e-3, atol 1e-4); a cell "
        "marked WRONG failed that check.",
        "",
        "| model | " + " | ".join(f"{n} t{c}" for n, c in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    medians: dict[tuple[str, int], list[float]] = {c: [] for c in columns}
    for model in models:
        cells = []
        for name, count in columns:
            document = by_key.get((model, name, count))
            if document is None:
                cells.append("-")
                continue
            cells.append(_cell(document))
            if _xinrt_result(document)["status"] == "ok":
                medians[(name, count)].append(document["comparisons"][0]["ratio"]["median"])
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    lines.append(
        "| **geometric mean** | "
        + " | ".join(
            f"**{g:.2f}** (n={len(medians[c])})" if (g := geometric_mean(medians[c])) else "-"
            for c in columns
        )
        + " |"
    )
    lines += [
        "",
        "Geometric means are over the models a backend list could run (n).",
        "",
        "## Absolute latency (ms, p50 per query) and session creation (s)",
        "",
        "From the same runs; absolute numbers move with the machine's load, the ratios "
        "above much less",
        "",
        "| model | threads | ORT p50 | "
        + " | ".join(f"{n} p50" for n in lists)
        + " | "
        + " | ".join(f"{n} create" for n in lists)
        + " |",
        "|---|---|---|" + "---|" * (2 * len(lists)),
    ]
    for model in models:
        for count in threads:
            docs = [by_key.get((model, name, count)) for name in lists]
            ort = next(
                (r for d in docs if d for r in d["results"] if r["kind"] == "onnxruntime"), None
            )
            p50 = [_fmt(_xinrt_result(d)["latency_ms"]["p50"]) if d else "-" for d in docs]
            create = [_fmt(_xinrt_result(d)["session_create_s"]) if d else "-" for d in docs]
            lines.append(
                f"| {model} | {count} | {_fmt(ort['latency_ms']['p50'] if ort else None)}"
                f" | " + " | ".join(p50 + create) + " |"
            )
    reasons = sorted(
        {
            (d["suite"]["backend_list"], d["suite"]["model"], r["reason"])
            for d in documents
            for r in d["results"]
            if r["status"] != "ok"
        }
    )
    if reasons:
        lines += ["", "## Cannot run", ""]
        lines += [f"- `{name}` on {model}: {reason}" for name, model, reason in reasons]
    lines += [
        "",
        "## Files",
        "",
        "- `bench/results.json`: `{schema, date, command, suite_seconds, settings, "
        "machine, lscpu, runs}`; each of `runs` is one `xinrt bench` result document "
        "(schema `xinrt.bench/1`, documented in `runtime/bench/__init__.py`) plus "
        "`suite: {model, backend_list, threads}`. `latencies_ms` is emptied to keep the "
        "file small; the percentiles stay. `peak_rss_mib` is the whole suite process's "
        "peak so far.",
        f"- `bench/{chart}`: median ratio per model, backend list and threads (dots), "
        "min-max (lines, clipped).",
        "",
        f"![ratios]({chart})",
        "",
    ]
    # Sections written by hand (other benchmarks, targets) follow the marker and are kept.
    kept = ""
    if path.exists():
        _, marker, tail = path.read_text().partition(HAND_WRITTEN_MARKER)
        kept = marker + tail if marker else ""
    path.write_text("\n".join(lines) + ("\n" + kept if kept else ""))


def _fmt(value: float | None, digits: int = 3) -> str:
    return f"{value:.{digits}g}" if value is not None else "-"


def plot_ratios(documents: list[dict[str, Any]], path: Path) -> None:
    """Horizontal bars: median xinrt/ORT ratio per model, one bar per backend list x threads."""
    plt = pyplot()
    series: dict[str, dict[str, tuple[float, float, float]]] = {}
    models: list[str] = []
    for d in documents:
        model = d["suite"]["model"]
        if model not in models:
            models.append(model)
        if _xinrt_result(d)["status"] != "ok":
            continue
        ratio = d["comparisons"][0]["ratio"]
        label = f"{d['suite']['backend_list']} t{d['suite']['threads']}"
        series.setdefault(label, {})[model] = (ratio["median"], ratio["min"], ratio["max"])
    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.25 * len(models) * max(1, len(series))))
    step = 0.8 / max(1, len(series))
    for i, (label, values) in enumerate(series.items()):
        rows = [m for m in models if m in values]
        ys = [models.index(m) + (i - (len(series) - 1) / 2) * step for m in rows]
        med = [values[m][0] for m in rows]
        err = [
            [values[m][0] - values[m][1] for m in rows],
            [values[m][2] - values[m][0] for m in rows],
        ]
        ax.errorbar(
            med, ys, xerr=err, fmt="o", markersize=4, label=label, capsize=1.5, elinewidth=0.6
        )
    medians = [v[0] for values in series.values() for v in values.values()] or [1.0]
    ax.set_xlim(min(0.5, min(medians) / 2), max(2.0, max(medians) * 2))  # clip noisy extremes
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    from matplotlib.ticker import FormatStrFormatter, LogLocator

    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(FormatStrFormatter(""))
    ax.set_yticks(range(len(models)), models)
    ax.invert_yaxis()
    ax.set_xlabel(
        "xinrt time / ONNX Runtime time, per interleaved pair (dot: median; line: min-max, clipped)"
    )
    ax.set_title("xinrt vs ONNX Runtime, single-stream batch 1 (<1: xinrt faster)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(axis="x", alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the suite and write results.json, RESULTS.md and the chart into --out-dir."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--lists", default=",".join(BACKEND_LISTS), help="cpu,ort,default")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds of pairs per cell")
    parser.add_argument("--min-rounds", type=int, default=7)
    parser.add_argument("--max-rounds", type=int, default=300)
    parser.add_argument("--out-dir", default=str(HERE))
    args = parser.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    unknown = [m for m in models if m not in MODELS]
    lists = [n for n in args.lists.split(",") if n]
    if unknown or any(n not in BACKEND_LISTS for n in lists):
        parser.error(f"models are {', '.join(MODELS)}; lists are {', '.join(BACKEND_LISTS)}")
    threads = [int(t) for t in args.threads.split(",")]
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pyplot()  # fail now, not after the suite, when matplotlib is missing
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xinrt-bench-") as workdir:
        documents = run_suite(
            models, threads, lists, args.duration, args.min_rounds, args.max_rounds, Path(workdir)
        )
    meta = {
        "schema": "xinrt.bench.suite/1",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/suite.py", *(argv or sys.argv[1:])]),
        "suite_seconds": time.perf_counter() - start,
        "settings": {
            "models": models,
            "threads": threads,
            "lists": lists,
            "duration_s": args.duration,
            "min_rounds": args.min_rounds,
            "max_rounds": args.max_rounds,
        },
        "machine": machine_info(),
        "lscpu": _lscpu(),
    }
    write_json({**meta, "runs": documents}, out / "results.json")
    chart = "ratios.png"
    plot_ratios(documents, out / chart)
    write_markdown(documents, models, threads, lists, meta, out / "RESULTS.md", chart)
    print(
        f"wrote {out / 'results.json'}, {out / 'RESULTS.md'}, {out / chart} "
        f"in {meta['suite_seconds'] / 60:.1f} min"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
