"""The model fuzzer's driver: runs fuzz cases in child processes and reports any that kill or
hang their child, with the seed that reproduces it.

    python -m tests.fuzz.run                    # CI mode: 2,000 cases
    python -m tests.fuzz.run --long             # 100,000 cases (or XINRT_FUZZ_LONG=1)
    python -m tests.fuzz.run --cases N --first S --workers W
    python -m tests.fuzz.run --seed S           # one case in this process, with its traceback

Each child (`tests/fuzz/case.py`) runs a batch of consecutive seeds and says "start SEED"
before each; a child that dies (a signal, an AddressSanitizer report, any exit before "done")
or says nothing for --hang-s seconds is charged to the seed it started last, and a new child
goes on from the next seed.
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CI_CASES, LONG_CASES = 2000, 100_000
# A child importing xinrt, onnx and onnxruntime on a loaded machine is slow: only the time a
# started case takes counts as a hang.
STARTUP_S = 300.0


@dataclass
class Report:
    """What a fuzz run found: outcome counts, deaths/hangs by seed, raw exceptions by seed."""

    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    deaths: dict[int, str] = field(default_factory=dict)  # seed -> how the child died
    raw: dict[int, str] = field(default_factory=dict)  # seed -> the exception
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def summary(self) -> str:
        lines = [
            f"{self.cases} cases: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        ]
        lines += [f"  DEATH seed {s}: {why}" for s, why in sorted(self.deaths.items())]
        lines += [f"  raw seed {s}: {what}" for s, what in sorted(self.raw.items())[:40]]
        return "\n".join(lines)


def _seed_args(seeds: list[int]) -> list[str]:
    """Seeds as the child's arguments: runs of consecutive seeds become "A:B"."""
    args: list[str] = []
    i = 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        args.append(f"{seeds[i]}:{seeds[j] + 1}" if j > i else str(seeds[i]))
        i = j + 1
    return args


def _child(seeds: list[int]) -> tuple[subprocess.Popen[bytes], object]:
    err = tempfile.TemporaryFile()
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        OMP_NUM_THREADS="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fuzz.case", *_seed_args(seeds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=err,
        env=env,
    )
    return proc, err


def _stderr_tail(err: object) -> str:
    err.seek(0)  # type: ignore[attr-defined]
    text = err.read().decode(errors="replace")  # type: ignore[attr-defined]
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    keep = [ln for ln in lines if "ERROR: AddressSanitizer" in ln or "runtime error" in ln]
    return " | ".join((keep or lines)[-3:])[:400]


def _run_seeds(seeds: list[int], hang_s: float, report: Report) -> None:
    """Runs `seeds` in order, restarting the child after each death or hang."""
    position = {seed: i for i, seed in enumerate(seeds)}
    next_index = 0
    while next_index < len(seeds):
        proc, err = _child(seeds[next_index:])
        started: int | None = None
        buffer = b""
        last = time.monotonic()
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        while True:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                buffer += chunk
                last = time.monotonic()
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    parts = line.decode(errors="replace").split(" ", 3)
                    if parts[0] == "start":
                        started = int(parts[1])
                    elif parts[0] == "done":
                        seed, outcome = int(parts[1]), parts[2]
                        with report.lock:
                            report.cases += 1
                            report.outcomes[outcome] += 1
                            if outcome == "raw":
                                report.raw[seed] = parts[3] if len(parts) > 3 else ""
                        started, next_index = None, position[seed] + 1
            elif time.monotonic() - last > (hang_s if started is not None else STARTUP_S):
                proc.kill()
                proc.wait()
                if started is not None:
                    with report.lock:
                        report.cases += 1
                        report.outcomes["hang"] += 1
                        report.deaths[started] = f"hang: no answer in {hang_s:.0f} s"
                    next_index = position[started] + 1
                break
        code = proc.wait()
        if started is not None and started not in report.deaths:
            with report.lock:
                report.cases += 1
                report.outcomes["death"] += 1
                how = f"signal {-code}" if code < 0 else f"exit {code}"
                report.deaths[started] = f"{how}: {_stderr_tail(err)}"
            next_index = position[started] + 1
        elif started is None and code != 0 and next_index < len(seeds):
            with report.lock:  # died between cases: charge the next seed, so the run ends
                report.deaths[seeds[next_index]] = f"exit {code} between cases: {_stderr_tail(err)}"
            next_index += 1
        err.close()  # type: ignore[attr-defined]


def fuzz(
    cases: int = 0,
    first: int = 0,
    workers: int = 2,
    hang_s: float = 30.0,
    seeds: list[int] | None = None,
    progress_s: float = 0.0,
) -> Report:
    """Run `cases` seeds from `first` (or the given `seeds`) over `workers` children."""
    report = Report()
    todo = list(seeds) if seeds is not None else list(range(first, first + cases))
    share = max(1, -(-len(todo) // workers))
    parts = [todo[i : i + share] for i in range(0, len(todo), share)]
    threads = [threading.Thread(target=_run_seeds, args=(part, hang_s, report)) for part in parts]
    for t in threads:
        t.start()
    told: set[int] = set()
    while True:
        alive = [t for t in threads if t.is_alive()]
        if not alive:
            return report
        alive[0].join(timeout=progress_s or None)
        if progress_s:  # a long run may be stopped early: say where it is and what it found
            with report.lock:
                line = report.summary().splitlines()[0]
                new = {s: why for s, why in report.deaths.items() if s not in told}
            print(f"progress: {line}; {len(report.deaths)} deaths", file=sys.stderr, flush=True)
            for seed, why in sorted(new.items()):
                print(f"  DEATH seed {seed}: {why}", file=sys.stderr, flush=True)
            told.update(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--long", action="store_true", help=f"{LONG_CASES} cases")
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hang-s", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=None, help="run one case here and show it")
    args = parser.parse_args(argv)
    if args.seed is not None:
        from tests.fuzz.case import run_case
        from tests.fuzz.mutate import mutate_case

        print(mutate_case(args.seed)[0])
        print(*run_case(args.seed))
        return 0
    long_mode = args.long or os.environ.get("XINRT_FUZZ_LONG") == "1"
    cases = args.cases or (LONG_CASES if long_mode else CI_CASES)
    start = time.monotonic()
    report = fuzz(cases, args.first, args.workers, args.hang_s, progress_s=60.0 if long_mode else 0)
    print(report.summary())
    print(f"seeds {args.first}..{args.first + cases - 1}, {time.monotonic() - start:.0f} s")
    return 1 if report.deaths else 0


if __name__ == "__main__":
    sys.exit(main())
