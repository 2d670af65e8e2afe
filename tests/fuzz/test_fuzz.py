"""The model fuzzer in CI: 2,000 mutated models through the default chain and `cpu` alone,
each in a child process; any process death or hang fails with the seed that reproduces it
(`python -m tests.fuzz.run --seed SEED`)."""

from __future__ import annotations

import os

from tests.fuzz.mutate import mutate_case
from tests.fuzz.run import CI_CASES, fuzz


def test_mutations_are_deterministic_per_seed():
    assert mutate_case(12345) == mutate_case(12345)
    assert len({mutate_case(s)[1] for s in range(20)}) > 15


def test_fuzz_cases_never_kill_or_hang_a_process():
    cases = int(os.environ.get("XINRT_FUZZ_CASES", CI_CASES))
    report = fuzz(cases, first=int(os.environ.get("XINRT_FUZZ_FIRST", "0")), workers=2)
    print(report.summary())
    assert report.cases >= cases
    assert not report.deaths, report.summary()
    # Most cases must get past loading, or the fuzzer only tests the checker.
    assert report.outcomes["ok"] > cases // 20, report.summary()
