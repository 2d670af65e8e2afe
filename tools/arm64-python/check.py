"""The xinrt package on aarch64: light models on the native CPU backend at each SIMD level.

Run by tools/arm64-python.sh with Debian's arm64 python3.11 under qemu-aarch64 (PYTHONPATH at the
assembled site folder). For each model, `randomized_light_model` (seeded random weights) with its
pre-Softmax logits as an extra output runs with backends=["reference"] (onnx.reference, under
this same Python) and then with backends=["cpu"], strict placement, one partition, once per SIMD
level: XINRT_CPU_SIMD is set before the session is built (a Plan reads it once, when built).
Outputs and logits must match within rtol 1e-3 / atol 1e-4. Exit status 1 on any mismatch.

    python check.py [--levels baseline,neon,neon_dot] [--expect-simd LEVELS] [model ...]

Without models it only prints and checks build_info() (the SIMD detection).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

RTOL, ATOL = 1e-3, 1e-4


def _select(level: str) -> None:
    os.environ.pop("XINRT_CPU_BASELINE", None)
    os.environ["XINRT_CPU_SIMD"] = level


def check_model(name: str, levels: list[str]) -> list[str]:
    """Runs one model at each level; returns the failures (empty when all match)."""
    from xinrt import InferenceSession, SessionOptions, _native
    from xinrt.testing import model_input_feeds, randomized_light_model, with_logits_output

    failures: list[str] = []
    start = time.perf_counter()
    model = with_logits_output(randomized_light_model(name, seed=0))
    feeds = model_input_feeds(model, seed=1)
    prepared = time.perf_counter()
    reference = InferenceSession(model, SessionOptions(strict=True), backends=["reference"])
    expected = reference.run(None, feeds)
    elapsed = time.perf_counter() - prepared
    print(f"{name}: model {prepared - start:.1f} s, reference {elapsed:.1f} s, "
          f"logits std {float(np.std(expected[-1])):.2f}", flush=True)
    if not np.std(expected[-1]) > 0.5:
        failures.append(f"{name}: logits are nearly uniform; the comparison would prove nothing")
    for level in levels:
        _select(level)
        selected = _native.build_info()["simd_selected"]
        if selected != level:
            failures.append(f"{name}: XINRT_CPU_SIMD={level} selected {selected}")
            continue
        begin = time.perf_counter()
        session = InferenceSession(model, SessionOptions(strict=True), backends=["cpu"])
        parts = session.placement.partitions
        if len(parts) != 1 or parts[0].backend != "cpu":
            failures.append(f"{name}/{level}: expected one cpu partition, got "
                            f"{[p.backend for p in parts]}")
        got = session.run(None, feeds)
        worst = 0.0
        for out, (g, w) in zip(session.get_outputs(), zip(got, expected)):
            if g.shape != w.shape:
                failures.append(f"{name}/{level}/{out.name}: shape {g.shape} != {w.shape}")
                continue
            try:
                np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)
            except AssertionError as err:
                failures.append(f"{name}/{level}/{out.name}: {err}")
            worst = max(worst, float(np.max(np.abs(g.astype(np.float64) - w))))
        status = "FAIL" if any(f.startswith(f"{name}/{level}/") for f in failures) else "OK"
        print(f"{status} {name} simd={level} outputs={len(got)} max_abs_diff={worst:.2e} "
              f"({time.perf_counter() - begin:.1f} s)", flush=True)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*")
    parser.add_argument("--levels", default="baseline,neon,neon_dot")
    parser.add_argument("--expect-simd", default="", help="build_info()['simd'] must equal this")
    args = parser.parse_args()

    from xinrt import _native

    info = _native.build_info()
    print(f"python {platform.python_version()} on {platform.machine()}; numpy {np.__version__}")
    print(f"build_info: {info}", flush=True)
    failures: list[str] = []
    if platform.machine() != "aarch64":
        failures.append(f"expected to run on aarch64, got {platform.machine()}")
    if args.expect_simd and ",".join(info["simd"]) != args.expect_simd:
        failures.append(f"build_info simd {info['simd']}, expected {args.expect_simd}")
    levels = [level for level in args.levels.split(",") if level] if args.models else []
    unknown = [level for level in levels if level not in info["simd"]]
    if unknown:
        failures.append(f"levels {unknown} not offered by this CPU ({info['simd']})")
        levels = [level for level in levels if level not in unknown]
    for name in args.models:
        failures += check_model(name, levels)
    for failure in failures:
        print("FAIL", failure)
    print(f"SUMMARY: {len(args.models)} models x {len(levels)} levels, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
