"""The SIMD paths the native kernels offer on this CPU, and how a test selects one."""

from __future__ import annotations

import pytest

try:
    from xinrt import _native
except ImportError:  # a source checkout without a build: the tests that need it skip
    _native = None

# e.g. ["baseline", "avx2_fma", "avx512", "avx512_vnni"] here; avx512_vnni only adds int8
# kernels, so float tests use FLOAT_SIMD_PATHS. avx512_bf16 only adds the bf16 GEMM, which runs
# at precision bf16 alone (tests/backends/cpu/kernels/test_conv_bf16.py), so neither list has it.
SIMD_PATHS: list[str] = (
    [p for p in _native.build_info()["simd"] if p != "avx512_bf16"] if _native else []
)
FLOAT_SIMD_PATHS = [p for p in SIMD_PATHS if p != "avx512_vnni"]


def use_simd_path(path: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Makes the plans built next run `path`'s kernels (portable baseline included)."""
    assert _native is not None
    if path == "baseline":
        monkeypatch.setenv("XINRT_CPU_BASELINE", "1")
    else:
        monkeypatch.delenv("XINRT_CPU_BASELINE", raising=False)
        monkeypatch.setenv("XINRT_CPU_SIMD", path)
    assert _native.build_info()["simd_selected"] == path
    return path
