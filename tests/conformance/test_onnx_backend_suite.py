"""onnx's official backend test suite (BackendTest) through xinrt's default chain.

Every test of the onnx wheel (node, simple, real = the light models, pytorch-converted,
pytorch-operator; no CUDA variants) runs on ["cpu", "ort", "reference"], placed by priority.
Tests that do not pass today are listed, each with its reason, in expected_failures.txt: they
are xfailed. A test that fails and is not listed fails the run; a listed test that passes is
reported (a warning and a section at the end of the run) so that the list only shrinks.
"""

from __future__ import annotations

import functools
import os
import unittest
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import onnx.backend.test
import pytest

from tests.conformance.conftest import UNEXPECTED_PASSES
from xinrt.conformance.xfail import load_expected_failures
from xinrt.onnx_backend import with_backends

CHAIN = ["cpu", "ort", "reference"]
EXPECTED_FAILURES = load_expected_failures(Path(__file__).with_name("expected_failures.txt"))


class UnexpectedPass(UserWarning):
    """An expected failure passed: remove it from expected_failures.txt."""


def _expect_failure(test: Callable[..., Any], name: str, reason: str) -> Callable[..., Any]:
    @functools.wraps(test)
    def run(self: unittest.TestCase) -> None:
        try:
            test(self)
        except unittest.SkipTest:
            raise
        except Exception as exc:  # the listed failure: any exception, as the list describes
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            pytest.xfail(f"{reason} [{type(exc).__name__}: {first}]")
        UNEXPECTED_PASSES.append(name)
        warnings.warn(
            UnexpectedPass(f"{name} passes; remove it from expected_failures.txt"), stacklevel=1
        )

    return run


def _suite_cases() -> dict[str, type[unittest.TestCase]]:
    with warnings.catch_warnings():  # onnx's case generators warn about overflowing casts
        warnings.simplefilter("ignore")
        # Priority order: each node on the first backend that claims it, so the suite checks
        # `cpu` wherever it claims a node, every run the same ("fastest" would move nodes to
        # whichever backend timed faster on this machine; both are checked here anyway).
        backend = with_backends(CHAIN, log_severity_level=4, placement="priority")
        cases = onnx.backend.test.BackendTest(backend, __name__).test_cases
    names: set[str] = set()
    for cls in cases.values():
        for attr in [a for a in vars(cls) if a.startswith("test_")]:
            if attr.endswith("_cuda"):  # xinrt's onnx backend runs on the host only
                delattr(cls, attr)
                continue
            name = attr[: -len("_cpu")]
            names.add(name)
            if name in EXPECTED_FAILURES:
                setattr(
                    cls, attr, _expect_failure(getattr(cls, attr), name, EXPECTED_FAILURES[name])
                )
    _ALL_NAMES.update(names)
    return cases


_ALL_NAMES: set[str] = set()
globals().update(_suite_cases())


@pytest.fixture(autouse=True, scope="module")
def _private_onnx_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The runner writes the light models' dummy data under $ONNX_HOME: keep it in a temp dir."""
    saved = {k: os.environ.get(k) for k in ("ONNX_HOME", "ONNX_MODELS")}
    os.environ["ONNX_HOME"] = str(tmp_path_factory.mktemp("onnx_home"))
    os.environ.pop("ONNX_MODELS", None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_every_expected_failure_names_a_test_of_the_suite() -> None:
    stale = sorted(set(EXPECTED_FAILURES) - _ALL_NAMES)
    assert not stale, f"not in onnx {onnx.__version__}'s suite; remove from the list: {stale}"
