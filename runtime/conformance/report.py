"""Conformance reports: JSON (machine-readable), Markdown (summary), one self-contained HTML page.

All writers take a list of SuiteRun (one per backend configuration) so that one report compares
configurations side by side: the op matrix has a column per configuration. The JSON schema is
documented in docs/conformance.md.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from ..errors import InvalidArgumentError
from .suite import STATUSES, SuiteRun, TestResult, versions

SCHEMA = "xinrt-conformance/1"
FORMATS = ("md", "json", "html")
_FILE_NAMES = {"md": "conformance.md", "json": "conformance.json", "html": "conformance.html"}


# -- JSON -----------------------------------------------------------------------------------


def run_to_dict(run: SuiteRun) -> dict[str, Any]:
    """One configuration's results as JSON-ready data."""
    return {
        "label": run.label,
        "backends": run.backends,
        "strict": run.strict,
        "kinds": run.kinds,
        "ops": run.ops,
        "started": run.started,
        "seconds": round(run.seconds, 3),
        "versions": run.versions,
        "totals": run.totals(),
        "by_op": run.by_op(),
        "tests": [r.to_dict() for r in run.results],
    }


def to_json(runs: Sequence[SuiteRun]) -> str:
    """The whole report as JSON text (schema `xinrt-conformance/1`)."""
    data = {
        "schema": SCHEMA,
        "generated": _now(),
        "versions": versions(),
        "runs": [run_to_dict(r) for r in runs],
    }
    return json.dumps(data, indent=1, allow_nan=False)


def runs_from_json(text: str, source: str = "<json>") -> list[SuiteRun]:
    """Read back the runs of a JSON report (to merge several reports into one)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError(f"{source} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise InvalidArgumentError(f"{source} is not an xinrt conformance report ({SCHEMA})")
    runs = []
    fields = set(TestResult.__dataclass_fields__)
    for item in data["runs"]:
        results = [
            TestResult(**{k: _float(v) for k, v in t.items() if k in fields}) for t in item["tests"]
        ]
        runs.append(
            SuiteRun(
                item["backends"],
                item["strict"],
                item["kinds"],
                item["ops"],
                results,
                item["started"],
                item["seconds"],
                item["versions"],
            )
        )
    return runs


def _float(value: Any) -> Any:
    return float(value) if value in ("inf", "-inf", "nan") else value


# -- Markdown -------------------------------------------------------------------------------


def _rate(counts: dict[str, Any]) -> str:
    return f"{counts['pass_rate']:.1%}" if counts["total"] else "-"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_table(runs: Sequence[SuiteRun]) -> list[str]:
    """Markdown rows: one line per configuration with its counts, pass rate and time."""
    lines = [
        "| configuration | tests | pass | fail | unsupported | error | pass rate | time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        t = run.totals()
        lines.append(
            f"| `{run.label}` | {t['total']} | {t['pass']} | {t['fail']} | "
            f"{t['unsupported']} | {t['error']} | {_rate(t)} | {_seconds(run.seconds)} |"
        )
    return lines


def op_matrix(runs: Sequence[SuiteRun]) -> tuple[list[str], dict[str, list[dict[str, Any] | None]]]:
    """(ops, {op: counts per run or None}) for every op any run has."""
    per_run = [run.by_op() for run in runs]
    ops = sorted({op for counts in per_run for op in counts}, key=str.lower)
    return ops, {op: [counts.get(op) for counts in per_run] for op in ops}


def _matrix_cell(counts: dict[str, Any] | None) -> str:
    if counts is None:
        return "-"
    extra = ", ".join(f"{counts[s]} {s}" for s in STATUSES[1:] if counts[s])
    return f"{counts['pass']}/{counts['total']}" + (f" ({extra})" if extra else "")


def to_markdown(runs: Sequence[SuiteRun], title: str = "ONNX backend conformance") -> str:
    """Summary, op x configuration matrix, and every test that did not pass, as Markdown."""
    info = runs[0].versions if runs else versions()
    lines = [
        f"# {title}",
        "",
        f"Generated {_now()} by `xinrt conformance`; "
        + ", ".join(f"{k} {v}" for k, v in info.items())
        + ".",
        "",
    ]
    lines += summary_table(runs)
    lines += [
        "",
        "Statuses: **pass**; **fail** (wrong values, shape or dtype: the error and the "
        "tolerance missed); **unsupported** (the backends declined: PlacementError, "
        "UnsupportedError, BackendUnavailableError); **error** (any other exception).",
        "",
    ]
    ops, matrix = op_matrix(runs)
    lines += [
        "## Ops",
        "",
        "Passing tests / tests per op and configuration (model tests count under "
        "`kind/name` unless the model has one op).",
        "",
        "| op | " + " | ".join(f"`{r.label}`" for r in runs) + " |",
        "|---|" + "---|" * len(runs),
    ]
    for op in ops:
        lines.append(f"| {_cell(op)} | " + " | ".join(_matrix_cell(c) for c in matrix[op]) + " |")
    for run in runs:
        lines += _not_passing(run)
    return "\n".join(lines) + "\n"


def _not_passing(run: SuiteRun) -> list[str]:
    """Every fail and error by name; unsupported tests by op (the full list is in JSON/HTML)."""
    bad = [r for r in run.results if r.status != "pass"]
    lines = ["", f"## `{run.label}`: {len(bad)} tests not passing", ""]
    wrong = sorted(
        (r for r in bad if r.status != "unsupported"),
        key=lambda r: (STATUSES.index(r.status), r.name),
    )
    if wrong:
        lines += ["| status | test | op | detail |", "|---|---|---|---|"]
        lines += [f"| {r.status} | {r.name} | {_cell(r.op)} | {_cell(r.detail)} |" for r in wrong]
    declined: dict[str, list[TestResult]] = {}
    for r in bad:
        if r.status == "unsupported":
            declined.setdefault(r.op, []).append(r)
    if declined:
        lines += [
            "",
            f"Unsupported ({sum(len(v) for v in declined.values())} tests), by op, "
            "with the first test's reason:",
            "",
            "| op | tests | first test | reason |",
            "|---|---:|---|---|",
        ]
        for op in sorted(declined, key=lambda o: (-len(declined[o]), o.lower())):
            first = min(declined[op], key=lambda r: r.name)
            lines.append(
                f"| {_cell(op)} | {len(declined[op])} | {first.name} | "
                f"{_cell(first.detail[:300])} |"
            )
    return lines


# -- HTML -----------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 6px;
font-size:13px;text-align:left;vertical-align:top}th{background:#f0f0f0;position:sticky;top:0}
.pass{background:#dff0d8}.fail{background:#f8d0d0}.unsupported{background:#fcf3cf}
.error{background:#f5c6e6}.num{text-align:right}.detail{max-width:60em;word-break:break-word}
input{margin:0 .5em 0 0}
"""

_SCRIPT = """
function filterTests(){
 const q=document.getElementById('q').value.toLowerCase();
 const s=document.getElementById('s').value;
 for(const row of document.querySelectorAll('#tests tbody tr')){
  const t=row.textContent.toLowerCase();
  const shown=(!q||t.includes(q))&&(!s||row.dataset.status.includes(s));
  row.style.display=shown?'':'none';}}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def to_html(runs: Sequence[SuiteRun], title: str = "ONNX backend conformance") -> str:
    """One self-contained page (inline CSS and JS, no network): summary, op matrix, every test."""
    info = runs[0].versions if runs else versions()
    out = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(title)}</title>",
        f"<style>{_STYLE}</style><script>{_SCRIPT}</script></head><body>",
        f"<h1>{_e(title)}</h1><p>Generated {_e(_now())} by <code>xinrt conformance</code>; "
        + _e(", ".join(f"{k} {v}" for k, v in info.items()))
        + "</p>",
        "<h2>Summary</h2><table><tr><th>configuration</th><th>tests</th>"
        + "".join(f"<th>{s}</th>" for s in STATUSES)
        + "<th>pass rate</th><th>time</th></tr>",
    ]
    for run in runs:
        t = run.totals()
        out.append(
            f"<tr><td><code>{_e(run.label)}</code></td><td class=num>{t['total']}</td>"
            + "".join(f"<td class='num {s}'>{t[s]}</td>" for s in STATUSES)
            + f"<td class=num>{_rate(t)}</td><td class=num>{_seconds(run.seconds)}</td></tr>"
        )
    out.append(
        "</table><h2>Ops</h2><table><tr><th>op</th>"
        + "".join(f"<th>{_e(r.label)}</th>" for r in runs)
        + "</tr>"
    )
    ops, matrix = op_matrix(runs)
    for op in ops:
        cells = []
        for counts in matrix[op]:
            css = (
                ""
                if counts is None
                else (
                    "pass"
                    if counts["pass"] == counts["total"]
                    else "fail"
                    if counts["fail"]
                    else "unsupported"
                )
            )
            cells.append(f"<td class='num {css}'>{_e(_matrix_cell(counts))}</td>")
        out.append(f"<tr><td>{_e(op)}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    out += _tests_table(runs)
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _tests_table(runs: Sequence[SuiteRun]) -> list[str]:
    by_name: dict[str, list[TestResult | None]] = {}
    meta: dict[str, TestResult] = {}
    for index, run in enumerate(runs):
        for r in run.results:
            by_name.setdefault(r.name, [None] * len(runs))[index] = r
            meta.setdefault(r.name, r)
    out = [
        "<h2>Tests</h2><p><input id=q placeholder='filter: test, op, detail' "
        "oninput=filterTests()><select id=s onchange=filterTests()><option value=''>any status"
        + "".join(f"<option>{s}</option>" for s in STATUSES)
        + "</select></p>",
        "<table id=tests><thead><tr><th>test</th><th>kind</th><th>op</th>"
        + "".join(f"<th>{_e(r.label)}</th>" for r in runs)
        + "</tr></thead><tbody>",
    ]
    for name in sorted(by_name):
        results = by_name[name]
        statuses = " ".join(c.status for c in results if c is not None)
        cells = []
        for cell in results:
            if cell is None:
                cells.append("<td>-</td>")
                continue
            ran = ", ".join(f"{b}:{n}" for b, n in cell.ran_on.items())
            note = f"<br><small>{_e(cell.detail)}</small>" if cell.detail else ""
            cells.append(
                f"<td class='{cell.status} detail' title='{_e(ran)}'>{cell.status}{note}</td>"
            )
        m = meta[name]
        out.append(
            f"<tr data-status='{statuses}'><td>{_e(name)}</td><td>{_e(m.kind)}</td>"
            f"<td>{_e(m.op)}</td>{''.join(cells)}</tr>"
        )
    out.append("</tbody></table>")
    return out


# -- files ----------------------------------------------------------------------------------


def parse_formats(text: str | None) -> list[str]:
    """'md,json,html' -> validated list; raises InvalidArgumentError naming the bad format."""
    formats = [f.strip().lower() for f in (text or ",".join(FORMATS)).split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InvalidArgumentError(
            f"unknown report format(s) {', '.join(bad) or '(none)'}; "
            f"choose from {', '.join(FORMATS)}"
        )
    return list(dict.fromkeys(formats))


def write_reports(
    runs: Sequence[SuiteRun],
    out_dir: str | os.PathLike[str],
    formats: Sequence[str],
    title: str = "ONNX backend conformance",
) -> list[str]:
    """Write conformance.{md,json,html} under out_dir (created); returns the paths written."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InvalidArgumentError(f"--out {os.fspath(out_dir)} exists and is not a directory")
    os.makedirs(out_dir, exist_ok=True)
    texts = {
        "md": lambda: to_markdown(runs, title),
        "json": lambda: to_json(runs),
        "html": lambda: to_html(runs, title),
    }
    paths = []
    for fmt in formats:
        path = os.path.join(out_dir, _FILE_NAMES[fmt])
        with open(path, "w", encoding="utf-8") as f:
            f.write(texts[fmt]())
        paths.append(path)
    return paths


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
