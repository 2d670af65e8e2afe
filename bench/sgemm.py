"""SGEMM throughput: xinrt's native MatMul against numpy's BLAS, interleaved, per thread count.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/sgemm.py

(unset both so numpy's OpenBLAS picks its own kernel for this CPU, as a user's would). Each
thread count runs in a fresh process, because OpenBLAS fixes its thread count at import.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time


def _measure(size: int, threads: int, runs: int) -> dict[str, float]:
    import numpy as np

    from xinrt import _native

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size)).astype(np.float32)
    b = rng.standard_normal((size, size)).astype(np.float32)
    plan = _native.Plan(
        [("MatMul", "", 13, [0, 1], [2], {}, "mm")],
        3,
        [0, 1],
        [2],
        {},
        threads,
        input_dtypes=["float32", "float32"],
    )
    np.testing.assert_allclose(plan.run([a, b])[0], a @ b, rtol=1e-3, atol=1e-2)
    ours, theirs = [], []
    for _ in range(2):  # warm-up
        plan.run([a, b])
        a @ b
    for _ in range(runs):  # interleaved A B A B
        start = time.perf_counter()
        plan.run([a, b])
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        a @ b
        theirs.append(time.perf_counter() - start)
    flops = 2.0 * size**3
    return {
        "size": size,
        "threads": threads,
        "xinrt_gflops": flops / statistics.median(ours) / 1e9,
        "numpy_gflops": flops / statistics.median(theirs) / 1e9,
    }


def main() -> int:
    if len(sys.argv) == 4:  # child: size threads runs
        print(json.dumps(_measure(*map(int, sys.argv[1:]))))
        return 0
    rows = []
    for threads in (1, 2):
        for size in (1024, 2048):
            env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
            out = subprocess.run(
                [sys.executable, __file__, str(size), str(threads), "7"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            row = json.loads(out)
            row["ratio"] = row["xinrt_gflops"] / row["numpy_gflops"]
            rows.append(row)
            print(
                f"SGEMM {size}^3, {threads} thread(s): xinrt {row['xinrt_gflops']:.0f} GFLOP/s, "
                f"numpy {row['numpy_gflops']:.0f} GFLOP/s -> {row['ratio']:.0%} of numpy"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
