"""`python -m xinrt.corpus.child NAME OUT.json CONFIGS THREADS ITERATIONS TIMED`: check one model in
its own process, so that a crash or a hang costs that model only. Rewrites OUT.json after each
configuration, so the parent keeps what was done before a crash."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    from .check import check_model
    from .registry import find_entries

    name, out, configs, threads, iterations, timed = argv
    target = Path(out)

    def save(result: dict[str, Any]) -> None:
        target.write_text(json.dumps(result, default=str))

    (entry,) = find_entries([name])
    result = check_model(
        entry,
        [c for c in configs.split(",") if c],
        [int(t) for t in threads.split(",") if t],
        int(iterations),
        [c for c in timed.split(",") if c],
        on_config=save,
    )
    save(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
