"""Start -> model ready of `xinrt serve`, for one or more interpreters (checkouts) in turns.

Each round starts the server once per interpreter, in an order that alternates round by round,
and times process start -> `/v2/models/squeezenet/ready` answers 200 (bench/serve.py's
`ready_s`); the server is stopped by its PID before the next start. Model: bench/serve.py's
light SqueezeNet with a dynamic batch dim. Each interpreter gets its own cache folder, filled by
one unrecorded start first, so the recorded starts see a warm placement-cost cache.

    .venv/bin/python bench/serve_start.py [--rounds 7] [--backends ort] \
        [--python before=OTHER_CHECKOUT/.venv/bin/python] [--python after=.venv/bin/python]

To compare code rather than venvs (installed packages change import times), give "before" the
same packages: copy the venv and point the copy's editable-install finder
(site-packages/_editable_skbc_xinrt.py) at an export of the older commit
(`git archive COMMIT | tar -x -C DIR`, its paths for this checkout's).

Medians per interpreter, and each one's time over the first one's, round by round (median
[min-max] of the per-round ratios: the machine's load moves both alike).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import MODEL, free_port, squeezenet_dynamic, start  # noqa: E402


def start_once(python: str, repo: Path, backends: str | None, cache: Path, log: Path) -> float:
    """Seconds from process start to the model answering ready; the server is then stopped."""
    http, grpc = free_port(), free_port()
    command = [python, "-m", "xinrt.cli", "serve", str(repo), "--port", str(http)]
    command += ["--grpc-port", str(grpc)]
    if backends:
        command += ["--backends", backends]
    env = {**os.environ, "XINRT_CACHE_DIR": str(cache)}
    server = start("xinrt serve", command, http, grpc, env, log, cwd=Path(tempfile.gettempdir()))
    server.stop()
    return server.ready_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--backends", help="--backends for xinrt serve (default: its own)")
    parser.add_argument(
        "--python",
        action="append",
        metavar="LABEL=PATH",
        help=f"an interpreter with xinrt installed (default: this one); model {MODEL}",
    )
    args = parser.parse_args(argv)
    given = args.python or [f"this={sys.executable}"]
    # absolute, not resolved: a venv's python is a symlink that must keep its own path
    pythons = {label: os.path.abspath(path) for label, path in (p.split("=", 1) for p in given)}
    folder = Path(tempfile.mkdtemp(prefix="xinrt-serve-start-"))
    repo = squeezenet_dynamic(folder).parents[2]
    caches = {label: folder / f"cache-{label}" for label in pythons}
    for label, python in pythons.items():  # fill each cache; not recorded
        start_once(python, repo, args.backends, caches[label], folder / f"{label}.log")
    times: dict[str, list[float]] = {label: [] for label in pythons}
    labels = list(pythons)
    for round_ in range(args.rounds):
        for label in labels if round_ % 2 == 0 else labels[::-1]:
            log = folder / f"{label}.log"
            times[label].append(start_once(pythons[label], repo, args.backends, caches[label], log))
    for label, values in times.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"{label}: median {statistics.median(values):.2f} s  [{shown}]")
    for label in labels[1:]:
        ratios = sorted(a / b for a, b in zip(times[label], times[labels[0]]))
        print(
            f"{label} / {labels[0]}, per round: median {statistics.median(ratios):.2f} "
            f"[{ratios[0]:.2f}-{ratios[-1]:.2f}]"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
