"""The C++ kernel test harness (csrc/tests/) on this machine and, cross-built, on ARM.

tools/arm-kernel-tests.sh builds the harness (cmake, -DXINRT_BUILD_TESTS=ON) and runs every kernel
family at every SIMD level the CPU offers against the portable baseline; for aarch64 it cross-builds
with g++-aarch64-linux-gnu and runs under qemu-aarch64 on CPU models with and without the dot
product, and once more with AddressSanitizer/UBSan, so the NEON kernels, their memory accesses and
the HWCAP detection are checked without an ARM board. Build trees are reused between runs.
Without the cross tools the ARM tests skip, unless XINRT_REQUIRE_ARM_TESTS=1 (CI) makes that a
failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "tools" / "arm-kernel-tests.sh"
SKIP_CODE = 77  # the script's exit status when the cross tools are absent


def _env() -> dict[str, str]:
    """The environment for the script: cmake from the venv too, no SIMD cap inherited."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("XINRT_CPU_SIMD", None)
    env.pop("XINRT_CPU_BASELINE", None)
    return env


def _require(tools: list[str], why: str) -> None:
    """Skips (or fails under XINRT_REQUIRE_ARM_TESTS=1) when a tool is not on PATH."""
    path = _env()["PATH"]
    missing = [t for t in tools if shutil.which(t, path=path) is None]
    if not missing:
        return
    reason = f"{why}: {', '.join(missing)} not found"
    if os.environ.get("XINRT_REQUIRE_ARM_TESTS") == "1":
        pytest.fail(reason + " and XINRT_REQUIRE_ARM_TESTS=1")
    pytest.skip(reason)


def _run_harness(part: str) -> str:
    """Runs the script for `part` (host or aarch64) and returns its output."""
    result = subprocess.run(["bash", str(SCRIPT), part], cwd=ROOT, env=_env(), capture_output=True,
                            text=True, check=False, timeout=900)
    output = result.stdout + result.stderr
    if result.returncode == SKIP_CODE:
        reason = output.strip().splitlines()[-1]
        if os.environ.get("XINRT_REQUIRE_ARM_TESTS") == "1":
            pytest.fail(reason + " and XINRT_REQUIRE_ARM_TESTS=1")
        pytest.skip(reason)
    failures = [line for line in output.splitlines() if line.startswith("FAIL")]
    assert result.returncode == 0, "\n".join(failures) or output[-4000:]
    return output


def _summaries(output: str) -> list[tuple[int, int, str]]:
    """(passed, failed, levels) of each harness run in the output."""
    found = re.findall(r"^SUMMARY: (\d+) passed, (\d+) failed \(levels ([\w,]+)\)$", output, re.M)
    return [(int(p), int(f), levels) for p, f, levels in found]


def test_kernel_harness_passes_at_every_simd_level_of_this_machine() -> None:
    _require(["cmake", "g++"], "the C++ kernel harness needs a host toolchain")
    runs = _summaries(_run_harness("host"))
    assert len(runs) == 1, runs
    passed, failed, levels = runs[0]
    assert failed == 0 and passed > 100, runs
    assert levels.split(",")[0] == "baseline"


def test_kernel_harness_passes_on_aarch64_under_qemu_with_and_without_dotprod() -> None:
    _require(["cmake", "aarch64-linux-gnu-g++", "qemu-aarch64"],
             "ARM kernel tests need the aarch64 cross compiler and qemu-user "
             "(apt-get install g++-aarch64-linux-gnu qemu-user)")
    runs = _summaries(_run_harness("aarch64"))
    # qemu's default CPU and cortex-a76 offer the dot product; cortex-a53 must fall back to neon.
    assert [levels for _, _, levels in runs] == [
        "baseline,neon,neon_dot", "baseline,neon,neon_dot", "baseline,neon"], runs
    assert all(failed == 0 and passed > 100 for passed, failed, _ in runs), runs


def test_kernel_harness_is_clean_under_address_and_ub_sanitizers_on_aarch64() -> None:
    _require(["cmake", "aarch64-linux-gnu-g++", "qemu-aarch64"],
             "ARM kernel tests need the aarch64 cross compiler and qemu-user "
             "(apt-get install g++-aarch64-linux-gnu qemu-user)")
    output = _run_harness("aarch64-asan")
    for marker in ("ERROR: AddressSanitizer", "runtime error:"):
        assert marker not in output, output[-4000:]
    runs = _summaries(output)
    assert len(runs) == 1 and runs[0][1] == 0 and runs[0][2] == "baseline,neon,neon_dot", runs
