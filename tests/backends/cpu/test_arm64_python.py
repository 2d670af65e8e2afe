"""The whole xinrt package on aarch64: Debian's arm64 CPython under qemu-aarch64.

tools/arm64-python.sh unpacks an arm64 python3.11 from Debian's packages, the aarch64 wheels of
numpy/onnx/onnx-ir from PyPI, cross-builds xinrt._native with aarch64-linux-gnu-g++ and assembles
the package as the wheel lays it out (entry points included); tools/arm64-python/check.py then runs
light models with backends=["cpu"] (strict, one partition) at every aarch64 SIMD level against
backends=["reference"] under the same arm64 Python, and checks the SIMD detection on a CPU
without the dot product. Here one model (squeezenet) runs at all levels to keep the suite fast;
the script's default runs squeezenet, shufflenet and resnet50 (docs/arm64-python.md).

Skips without the cross tools, without the dpkg arm64 architecture or when a download fails,
unless XINRT_REQUIRE_ARM_TESTS=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "tools" / "arm64-python.sh"
SKIP_CODES = {77: "missing tool", 78: "download failed"}


def _env() -> dict[str, str]:
    """The script's environment: this venv's python (pip) and cmake, no SIMD cap inherited."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHON"] = sys.executable
    env.pop("XINRT_CPU_SIMD", None)
    env.pop("XINRT_CPU_BASELINE", None)
    return env


def _run(*args: str) -> str:
    result = subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, env=_env(),
                            capture_output=True, text=True, check=False, timeout=1500)
    output = result.stdout + result.stderr
    if result.returncode in SKIP_CODES:
        reason = f"arm64 python check: {output.strip().splitlines()[-1]}"
        if os.environ.get("XINRT_REQUIRE_ARM_TESTS") == "1":
            pytest.fail(reason + " and XINRT_REQUIRE_ARM_TESTS=1")
        pytest.skip(reason)
    failures = [line for line in output.splitlines() if line.startswith("FAIL")]
    assert result.returncode == 0, "\n".join(failures) or output[-4000:]
    return output


def test_light_model_on_arm64_python_matches_reference_at_every_simd_level() -> None:
    output = _run("check", "squeezenet")
    # qemu's default CPU offers the dot product; cortex-a53 (ARMv8.0) must fall back to neon.
    simd = re.findall(r"^build_info: .*'simd': \[([^\]]*)\]", output, re.M)
    assert simd == ["'baseline', 'neon', 'neon_dot'", "'baseline', 'neon'"], output[-4000:]
    assert re.findall(r"^python \S+ on (\S+);", output, re.M) == ["aarch64", "aarch64"]
    passed = re.findall(r"^OK squeezenet simd=(\w+) outputs=2 ", output, re.M)
    assert passed == ["baseline", "neon", "neon_dot"], output[-4000:]
    summaries = re.findall(r"^SUMMARY: (\d+) models x (\d+) levels, (\d+) failures$", output, re.M)
    assert summaries == [("1", "3", "0"), ("0", "0", "0")], summaries
