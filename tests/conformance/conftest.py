"""Collects the expected failures that passed, and lists them at the end of the pytest run."""

from __future__ import annotations

from typing import Any

UNEXPECTED_PASSES: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Tell whoever runs the suite which expected failures now pass (so the list only shrinks)."""
    if UNEXPECTED_PASSES:
        terminalreporter.section("conformance: expected failures that now pass")
        for name in UNEXPECTED_PASSES:
            terminalreporter.write_line(
                f"{name}: passes; remove it from tests/conformance/expected_failures.txt"
            )
