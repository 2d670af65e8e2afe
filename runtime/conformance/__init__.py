"""The ONNX backend conformance suite through xinrt: discover, run, classify, report, bisect.

from xinrt.conformance import discover_tests, run_suite
run = run_suite(discover_tests(kinds=["node"], ops=["Relu"]), backends=["cpu"], strict=True)
print(run.totals())
"""

from __future__ import annotations

from .suite import (
    KINDS,
    STATUSES,
    ConformanceTest,
    SuiteRun,
    TestResult,
    classify_exception,
    compare_outputs,
    discover_tests,
    run_suite,
    run_test,
)

__all__ = [
    "KINDS",
    "STATUSES",
    "ConformanceTest",
    "SuiteRun",
    "TestResult",
    "classify_exception",
    "compare_outputs",
    "discover_tests",
    "run_suite",
    "run_test",
]
