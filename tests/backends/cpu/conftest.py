"""Fixtures of the native-kernel tests: one run per SIMD kernel path this CPU offers."""

from __future__ import annotations

import pytest

from tests.backends.cpu.simd_paths import FLOAT_SIMD_PATHS, SIMD_PATHS, use_simd_path


@pytest.fixture(params=FLOAT_SIMD_PATHS)
def cpu_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a float test once per kernel path this CPU offers (portable baseline included)."""
    return use_simd_path(request.param, monkeypatch)


@pytest.fixture(params=SIMD_PATHS)
def int8_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs an int8 test once per kernel path, avx512_vnni's int8 dot-product kernels included."""
    return use_simd_path(request.param, monkeypatch)
