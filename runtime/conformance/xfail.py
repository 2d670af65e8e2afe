"""Expected failures: a list of test names, each with the reason it fails (like ORT's filter file).

File format, one entry a line; blank lines and lines starting with `#` are ignored:

    test_bernoulli: random output; the expected values come from numpy's generator

A name without a reason is an error, so that the list documents itself and only shrinks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import InvalidArgumentError
from .suite import TestResult


def parse_expected_failures(text: str, source: str = "<text>") -> dict[str, str]:
    """{test name: reason} from the file's text; raises InvalidArgumentError on a bad line."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, reason = line.partition(":")
        name, reason = name.strip(), reason.strip()
        if not sep or not reason:
            raise InvalidArgumentError(
                f"{source}:{number}: entry {name!r} has no reason; write 'test_name: why it fails'"
            )
        if not name.startswith("test_") or " " in name:
            raise InvalidArgumentError(
                f"{source}:{number}: {name!r} is not a test name (test_...); write "
                "'test_name: why it fails'"
            )
        if name in entries:
            raise InvalidArgumentError(f"{source}:{number}: {name!r} is listed twice")
        entries[name] = reason
    return entries


def load_expected_failures(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read and parse an expected-failure file (see the module docstring for the format)."""
    if not os.path.isfile(path):
        raise InvalidArgumentError(f"expected-failure file not found: {os.fspath(path)}")
    with open(path, encoding="utf-8") as f:
        return parse_expected_failures(f.read(), os.fspath(path))


@dataclass
class Verdict:
    """How results compare with the expected failures."""

    new_failures: list[TestResult] = field(default_factory=list)  # not passing, not listed
    unexpected_passes: list[str] = field(default_factory=list)  # listed, but passed
    unknown: list[str] = field(default_factory=list)  # listed, but not in the suite run

    @property
    def ok(self) -> bool:
        """No new failure (unexpected passes and unknown names are reported, not fatal)."""
        return not self.new_failures

    def summary(self) -> str:
        """A few lines for a terminal."""
        lines = []
        for result in self.new_failures:
            lines.append(
                f"NEW {result.status.upper()}: {result.name} ({result.op}): {result.detail}"
            )
        for name in self.unexpected_passes:
            lines.append(f"UNEXPECTED PASS: {name} (remove it from the expected failures)")
        for name in self.unknown:
            lines.append(f"NOT IN THIS RUN: {name} (listed as an expected failure)")
        return "\n".join(lines) or "all results as expected"


def check_results(results: Iterable[TestResult], expected: Mapping[str, str]) -> Verdict:
    """Compare a run with the expected failures: new failures, unexpected passes, unknown names."""
    verdict = Verdict()
    seen: set[str] = set()
    for result in results:
        seen.add(result.name)
        if result.status != "pass" and result.name not in expected:
            verdict.new_failures.append(result)
        elif result.status == "pass" and result.name in expected:
            verdict.unexpected_passes.append(result.name)
    verdict.unknown = sorted(set(expected) - seen)
    return verdict
