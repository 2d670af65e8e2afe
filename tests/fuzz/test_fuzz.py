"""The model fuzzer in CI: 2,000 mutated models through the default chain and `cpu` alone,
each in a child process; any process death, hang or exception outside XinrtError fails with the
seed that reproduces it (`python -m tests.fuzz.run --seed SEED`)."""

from __future__ import annotations

import os

from tests.fuzz.mutate import mutate_case
from tests.fuzz.run import CI_CASES, fuzz

# Seeds that once killed, hung or raised raw, with what it was (fixed at the root since):
FOUND = {
    1: "ValueError: a small initializer's raw data longer than its dims (model.py)",
    29: "ValueError: cannot reshape array of size 30 into shape (6,) (model.py)",
    2361: "hang: onnx.reference's Scan with num_scan_inputs 10**12 (reference backend)",
    2414: "UnicodeDecodeError from the onnx checker (model.py)",
    704: "UnicodeDecodeError: a node name that is not UTF-8 (model.py)",
    5682: "hang: a Loop of 10**12 trips on the reference backend ignored timeout_s",
    4001862: "TypeError from onnx_ir: a value_info name that is not UTF-8 (model.py)",
    4002317: "SerdeError from fold_constants: a Constant's tensor name not UTF-8 (passes)",
    4004801: "UnicodeDecodeError: a graph name that is not UTF-8 (model.py)",
    1014588: "SerdeError from onnx_ir: an unknown element type in a value_info (model.py)",
    1095302: "heap corruption (SIGABRT) in the native backend before the Conv geometry fix",
    1027120: "ValueError: raw data of a FLOAT8E8M0 initializer not matching its dims (model.py)",
    1011205: "heap corruption (SIGABRT): Conv stride 2**62 + 1 sized im2col scratch (csrc)",
    1000727: "ValueError from onnx_ir's IdentityEliminationPass: Identity ranks differ (passes)",
    1018506: "SIGSEGV inside ORT 1.32: LayerNormalization scale [2,3,3,3] over x [1,2,3,3] "
    "(backends/ort declines it before ORT sees it: rules.crashes_ort)",
}


def test_mutations_are_deterministic_per_seed():
    assert mutate_case(12345) == mutate_case(12345)
    assert len({mutate_case(s)[1] for s in range(20)}) > 15


def test_fuzzer_findings_stay_fixed():
    report = fuzz(seeds=sorted(FOUND), workers=1, hang_s=60)
    assert report.cases == len(FOUND), report.summary()
    assert not report.deaths and not report.raw, report.summary()


def test_fuzz_cases_never_kill_hang_or_raise_raw():
    cases = int(os.environ.get("XINRT_FUZZ_CASES", CI_CASES))
    report = fuzz(cases, first=int(os.environ.get("XINRT_FUZZ_FIRST", "0")), workers=2)
    print(report.summary())
    assert report.cases >= cases
    assert not report.deaths, report.summary()
    assert not report.raw, report.summary()
    # Most cases must get past loading, or the fuzzer only tests the checker.
    assert report.outcomes["ok"] > cases // 20, report.summary()
