"""Run onnx's backend tests through xinrt and classify each: pass, fail, unsupported, error.

Tests come from the onnx wheel itself (`onnx.backend.test.loader`): `node` cases are generated
in memory by onnx's case modules; `simple`, `pytorch-converted` and `pytorch-operator` are
folders with model.onnx and test_data_set_*/{input,output}_*.pb; `real` points at the light
models in onnx/backend/test/data/light, fed with the runner's dummy inputs (so `light` is
accepted as another name for `real`). Outputs are compared exactly as onnx's runner does
(`Runner.assert_similar_outputs`: per-test rtol/atol, default 1e-3/1e-7; bfloat16 at least
2**-6; strings and sequences compared element by element).
"""

from __future__ import annotations

import glob
import os
import platform
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.test.case.test_case import TestCase
from onnx.backend.test.runner import Runner

from ..errors import (
    BackendUnavailableError,
    InvalidArgumentError,
    PlacementError,
    UnsupportedError,
)
from ..onnx_backend import XinrtBackend

KINDS = ("node", "simple", "real", "pytorch-converted", "pytorch-operator")
KIND_ALIASES = {"light": "real"}  # onnx 1.23's `real` tests are the light models
STATUSES = ("pass", "fail", "unsupported", "error")
DECLINED = (PlacementError, UnsupportedError, BackendUnavailableError)
_DETAIL_CHARS = 600

DataSet = tuple[list[Any], list[Any]]


@dataclass
class ConformanceTest:
    """One test of the suite: its name, kind, the op it exercises, tolerances and data."""

    __test__ = False  # not a pytest class

    name: str
    kind: str
    op: str
    rtol: float
    atol: float
    case: TestCase

    def load(self) -> tuple[onnx.ModelProto, list[DataSet]]:
        """The model and its (inputs, expected outputs) data sets, as numpy values."""
        if self.case.model is not None:
            sets = [
                ([_to_numpy(x) for x in ins], [_to_numpy(x) for x in outs])
                for ins, outs in (self.case.data_sets or [])
            ]
            return self.case.model, sets
        if self.case.model_dir is not None:
            model = onnx.load(os.path.join(self.case.model_dir, "model.onnx"))
            return model, _folder_data_sets(model, self.case.model_dir)
        return _light_model_test(self.case)


@dataclass
class TestResult:
    """The outcome of one test under one backend configuration."""

    __test__ = False  # not a pytest class

    name: str
    kind: str
    op: str
    status: str  # one of STATUSES
    detail: str = ""  # fail: what differed; unsupported: the decline; error: type and first line
    seconds: float = 0.0
    rtol: float = 1e-3
    atol: float = 1e-7
    output: int | None = None  # fail: index of the first output that differs
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    error_type: str | None = None
    ran_on: dict[str, int] = field(default_factory=dict)  # backend -> nodes it ran

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see docs/conformance.md for the schema)."""
        return {k: _json_number(v) for k, v in self.__dict__.items()}


@dataclass
class SuiteRun:
    """Every result of one configuration (backend chain + strictness) with versions and timing."""

    backends: list[str]
    strict: bool
    kinds: list[str]
    ops: list[str] | None
    results: list[TestResult]
    started: str
    seconds: float
    versions: dict[str, str]

    @property
    def label(self) -> str:
        """How reports name this configuration, e.g. ``cpu --strict``."""
        return ",".join(self.backends) + (" --strict" if self.strict else "")

    def totals(self) -> dict[str, Any]:
        """Counts per status, the number of tests and the pass rate."""
        return status_counts(self.results)

    def by_op(self) -> dict[str, dict[str, Any]]:
        """Counts per op (sorted by op name), as totals() computes them."""
        groups: dict[str, list[TestResult]] = {}
        for result in self.results:
            groups.setdefault(result.op, []).append(result)
        return {op: status_counts(groups[op]) for op in sorted(groups, key=str.lower)}


def status_counts(results: Sequence[TestResult]) -> dict[str, Any]:
    """{pass, fail, unsupported, error, total, pass_rate} for a list of results."""
    counts: dict[str, Any] = {status: 0 for status in STATUSES}
    for result in results:
        counts[result.status] += 1
    counts["total"] = len(results)
    counts["pass_rate"] = counts["pass"] / len(results) if results else 0.0
    return counts


# -- discovery ------------------------------------------------------------------------------


def normalize_kinds(kinds: Iterable[str] | None) -> list[str]:
    """Validated kinds in suite order (None = all); raises InvalidArgumentError on unknown ones."""
    if kinds is None:
        return list(KINDS)
    wanted = {KIND_ALIASES.get(k.strip(), k.strip()) for k in kinds if k.strip()}
    unknown = sorted(wanted - set(KINDS))
    if unknown:
        raise InvalidArgumentError(
            f"unknown test kind(s) {', '.join(unknown)}; choose from {', '.join(KINDS)} "
            "(light = real)"
        )
    if not wanted:
        raise InvalidArgumentError(f"no test kind given; choose from {', '.join(KINDS)}")
    return [k for k in KINDS if k in wanted]


def discover_tests(
    kinds: Iterable[str] | None = None, ops: Iterable[str] | None = None
) -> list[ConformanceTest]:
    """The suite's tests of these kinds (all by default), optionally only those of these ops.

    CUDA variants do not exist here: each test is listed once and run on the host.
    """
    from onnx.backend.test.loader import load_model_tests

    tests: list[ConformanceTest] = []
    for kind in normalize_kinds(kinds):
        with warnings.catch_warnings():  # onnx's case generators warn about overflowing casts
            warnings.simplefilter("ignore")
            cases = load_model_tests(kind=kind)
        if kind == "node":
            tests.extend(_node_tests(cases))
        else:
            tests.extend(
                ConformanceTest(c.name, kind, _model_op(c), c.rtol, c.atol, c) for c in cases
            )
    tests.sort(key=lambda t: (KINDS.index(t.kind), t.name))
    if ops is not None:
        wanted = {op.strip().lower() for op in ops if op.strip()}
        tests = [
            t for t in tests if t.op.lower() in wanted or t.op.rpartition(":")[2].lower() in wanted
        ]
        if not tests:
            raise InvalidArgumentError(
                f"no test exercises op(s) {', '.join(sorted(wanted))} in kinds "
                f"{', '.join(normalize_kinds(kinds))}"
            )
    return tests


def _op_name(node: onnx.NodeProto) -> str:
    domain = node.domain if node.domain not in ("", "ai.onnx") else ""
    return f"{domain}:{node.op_type}" if domain else node.op_type


def _node_tests(cases: Sequence[TestCase]) -> list[ConformanceTest]:
    """Node tests; an `_expanded` test (the function body) counts for the op it expands."""
    single = {
        c.name: _op_name(c.model.graph.node[0])
        for c in cases
        if c.model is not None and len(c.model.graph.node) == 1
    }
    tests = []
    for case in cases:
        op = single.get(case.name)
        if op is None:
            base = case.name.split("_expanded")[0]
            while base not in single and "_" in base[len("test_") :]:
                base = base.rsplit("_", 1)[0]
            op = single.get(base, case.name)
        tests.append(ConformanceTest(case.name, "node", op, case.rtol, case.atol, case))
    return tests


def _model_op(case: TestCase) -> str:
    """The single op of a one-op model test, else `kind/name` (the model stands for its ops)."""
    label = f"{case.kind}/{case.name[len('test_') :]}"
    if case.model_dir is None:
        return label
    model = onnx.load(os.path.join(case.model_dir, "model.onnx"), load_external_data=False)
    ops = {_op_name(n) for n in model.graph.node if n.op_type != "Constant"}
    return ops.pop() if len(ops) == 1 else label


# -- data loading ---------------------------------------------------------------------------


def _to_numpy(value: Any) -> Any:
    return numpy_helper.to_array(value) if isinstance(value, onnx.TensorProto) else value


def _read_value(path: str, value_type: onnx.TypeProto) -> Any:
    """A .pb file of the suite as numpy: tensor, sequence (list) or optional (value or None)."""
    with open(path, "rb") as f:
        content = f.read()
    if value_type.HasField("sequence_type"):
        sequence = onnx.SequenceProto()
        sequence.ParseFromString(content)
        return numpy_helper.to_list(sequence)
    if value_type.HasField("optional_type"):
        optional = onnx.OptionalProto()
        optional.ParseFromString(content)
        return numpy_helper.to_optional(optional)
    tensor = onnx.TensorProto()
    tensor.ParseFromString(content)
    return numpy_helper.to_array(tensor)


def _folder_data_sets(model: onnx.ModelProto, folder: str) -> list[DataSet]:
    sets: list[DataSet] = []
    for data_dir in sorted(glob.glob(os.path.join(folder, "test_data_set*"))):
        count_in = len(glob.glob(os.path.join(data_dir, "input_*.pb")))
        count_out = len(glob.glob(os.path.join(data_dir, "output_*.pb")))
        inputs = [
            _read_value(os.path.join(data_dir, f"input_{i}.pb"), model.graph.input[i].type)
            for i in range(count_in)
        ]
        outputs = [
            _read_value(os.path.join(data_dir, f"output_{i}.pb"), model.graph.output[i].type)
            for i in range(count_out)
        ]
        sets.append((inputs, outputs))
    return sets


def _light_model_test(case: TestCase) -> tuple[onnx.ModelProto, list[DataSet]]:
    """A `real` test: the light model, the runner's dummy inputs, the shipped expected outputs."""
    url = case.url or ""
    site = os.path.dirname(os.path.dirname(os.path.abspath(onnx.__file__)))
    path = os.path.normpath(os.path.join(site, url))
    if not url.startswith("onnx/backend/test/data/light/") or not os.path.isfile(path):
        raise FileNotFoundError(
            f"{case.name}: model {url!r} is not shipped in the onnx wheel "
            "(downloading is not supported)"
        )
    model = onnx.load(path)
    initializers = {t.name for t in model.graph.initializer}
    inputs = [
        Runner.generate_dummy_data(x, seed=0, name=case.model_name, random=False)
        for x in model.graph.input
        if x.name not in initializers
    ]
    prefix = os.path.splitext(path)[0]
    expected_paths = [f"{prefix}_output_{i}.pb" for i in range(len(model.graph.output))]
    if all(os.path.isfile(p) for p in expected_paths):
        expected = [_read_value(p, o.type) for p, o in zip(expected_paths, model.graph.output)]
    else:  # what the runner does when no expected output ships with the model
        from onnx.reference import ReferenceEvaluator

        names = [x.name for x in model.graph.input if x.name not in initializers]
        expected = list(ReferenceEvaluator(model).run(None, dict(zip(names, inputs))))
    return model, [(inputs, expected)]


# -- comparison and classification ----------------------------------------------------------


@dataclass
class Mismatch:
    """Why outputs are not close enough: which output, the errors, the tolerance missed."""

    output: int | None
    detail: str
    max_abs_error: float | None = None
    max_rel_error: float | None = None


def compare_outputs(
    expected: Sequence[Any], actual: Sequence[Any], rtol: float, atol: float
) -> Mismatch | None:
    """None when onnx's runner would accept `actual`, else where and by how much it differs."""
    try:
        Runner.assert_similar_outputs(list(expected), list(actual), rtol, atol)
    except (AssertionError, TypeError, ValueError) as exc:
        return _describe_mismatch(expected, actual, rtol, atol, exc)
    return None


def _describe_mismatch(
    expected: Sequence[Any], actual: Sequence[Any], rtol: float, atol: float, exc: Exception
) -> Mismatch:
    if len(expected) != len(actual):
        return Mismatch(None, f"{len(actual)} outputs, expected {len(expected)}")
    for index, (want, got) in enumerate(zip(expected, actual)):
        if isinstance(want, (list, tuple)) or isinstance(got, (list, tuple)):
            if not isinstance(got, (list, tuple)) or not isinstance(want, (list, tuple)):
                return Mismatch(
                    index,
                    f"output {index}: got {type(got).__name__}, expected {type(want).__name__}",
                )
            inner = compare_outputs(want, got, rtol, atol)
            if inner is not None:
                inner.output, inner.detail = index, f"output {index} (sequence): {inner.detail}"
                return inner
            continue
        want_a, got_a = np.asarray(want), np.asarray(got)
        if want_a.shape != got_a.shape:
            return Mismatch(
                index, f"output {index}: shape {list(got_a.shape)}, expected {list(want_a.shape)}"
            )
        if want_a.dtype != got_a.dtype:
            return Mismatch(index, f"output {index}: dtype {got_a.dtype}, expected {want_a.dtype}")
        if want_a.dtype == object or want_a.dtype.kind in "SU":
            if not np.array_equal(want_a, got_a):
                bad = int(np.sum(want_a != got_a))
                return Mismatch(index, f"output {index}: {bad}/{want_a.size} strings differ")
            continue
        tolerance = max(rtol, 2**-6) if want_a.dtype.name == "bfloat16" else rtol
        mismatch = _numeric_mismatch(index, want_a, got_a, tolerance, atol)
        if mismatch is not None:
            return mismatch
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Mismatch(None, f"runner rejected the outputs: {first}")


def _numeric_mismatch(
    index: int, want: np.ndarray, got: np.ndarray, rtol: float, atol: float
) -> Mismatch | None:
    w = want.astype(np.float64) if want.dtype.kind != "c" else want.astype(np.complex128)
    g = got.astype(np.float64) if got.dtype.kind != "c" else got.astype(np.complex128)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(g - w)
        same_special = (np.isnan(w) & np.isnan(g)) | ((w == g) & ~np.isfinite(w))
        bad = ~same_special & ~(diff <= atol + rtol * np.abs(w))
    if not bad.any():
        return None
    finite = np.isfinite(diff) & ~same_special
    max_abs = float(diff[finite].max()) if finite.any() else float("inf")
    nonzero = finite & (w != 0)
    max_rel = float((diff[nonzero] / np.abs(w[nonzero])).max()) if nonzero.any() else None
    special = int(np.sum(bad & ~finite))
    extra = f", {special} NaN/inf mismatches" if special else ""
    rel = f"{max_rel:.3g}" if max_rel is not None else "n/a"
    return Mismatch(
        index,
        f"output {index}: {int(bad.sum())}/{bad.size} elements off; max abs error {max_abs:.3g}, "
        f"max rel error {rel} (rtol {rtol:g}, atol {atol:g}){extra}",
        max_abs,
        max_rel,
    )


def classify_exception(exc: BaseException) -> tuple[str, str]:
    """(status, detail): a backend's decline is unsupported (with its reason), the rest error."""
    message = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    if isinstance(exc, DECLINED):
        return "unsupported", f"{type(exc).__name__}: {message}"[:_DETAIL_CHARS]
    first = str(exc).strip().splitlines()[0].strip() if str(exc).strip() else ""
    return "error", f"{type(exc).__name__}: {first}"[:_DETAIL_CHARS]


# -- running --------------------------------------------------------------------------------


def run_test(test: ConformanceTest, backends: Sequence[str], strict: bool) -> TestResult:
    """Prepare the test's model on `backends`, run every data set, and classify the outcome."""
    result = TestResult(test.name, test.kind, test.op, "pass", rtol=test.rtol, atol=test.atol)
    start = time.perf_counter()
    try:
        model, data_sets = test.load()
        rep = XinrtBackend.prepare(
            model, "CPU", backends=list(backends), strict=strict, log_severity_level=4
        )
        result.ran_on = _ran_on(rep.session)
        for inputs, expected in data_sets:
            with np.errstate(all="ignore"):
                outputs = list(rep.run(inputs))
            mismatch = compare_outputs(expected, outputs, test.rtol, test.atol)
            if mismatch is not None:
                result.status, result.detail = "fail", mismatch.detail[:_DETAIL_CHARS]
                result.output = mismatch.output
                result.max_abs_error = mismatch.max_abs_error
                result.max_rel_error = mismatch.max_rel_error
                break
    except Exception as exc:  # classification is the point: every exception is a result
        result.status, result.detail = classify_exception(exc)
        result.error_type = type(exc).__name__
    result.seconds = time.perf_counter() - start
    return result


def _ran_on(session: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in session.placement.nodes:
        counts[node.backend] = counts.get(node.backend, 0) + 1
    return counts


def resolve_backends(backends: Sequence[str] | None) -> list[str]:
    """The chain as names (None = xinrt's default chain, those usable here); checks each name."""
    from ..backend import get_backend, require_available
    from ..session import DEFAULT_BACKENDS, available_backends

    if not backends:
        usable = available_backends()
        return [b for b in DEFAULT_BACKENDS if b in usable]
    for name in backends:
        require_available(get_backend(name))
    return list(dict.fromkeys(backends))


def versions() -> dict[str, str]:
    """Versions that decide the results: xinrt, onnx, onnxruntime, numpy, python, platform."""
    from .. import __version__

    found = {
        "xinrt": __version__,
        "onnx": onnx.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        import onnxruntime

        found["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        found["onnxruntime"] = "not installed"
    return found


def run_suite(
    tests: Sequence[ConformanceTest],
    backends: Sequence[str] | None = None,
    strict: bool = False,
    *,
    progress: bool = True,
    kinds: Sequence[str] | None = None,
    ops: Sequence[str] | None = None,
) -> SuiteRun:
    """Run every test on one backend configuration, one at a time, with an optional progress bar."""
    chain = resolve_backends(backends)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    label = ",".join(chain) + (" --strict" if strict else "")
    start = time.perf_counter()
    results = [run_test(t, chain, strict) for t in _progress(tests, label, progress)]
    used_kinds = list(kinds) if kinds else sorted({t.kind for t in tests}, key=KINDS.index)
    return SuiteRun(
        chain,
        strict,
        used_kinds,
        list(ops) if ops else None,
        results,
        started,
        time.perf_counter() - start,
        versions(),
    )


def _progress(tests: Sequence[ConformanceTest], label: str, enabled: bool) -> Iterator[Any]:
    """tqdm when it is installed (not a dependency), else a plain counter on stderr."""
    if not enabled:
        yield from tests
        return
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        yield from tqdm(tests, desc=label, unit="test", file=sys.stderr, leave=True)
        return
    total = len(tests)
    step = max(1, total // 100)
    for index, test in enumerate(tests, 1):
        yield test
        if index % step == 0 or index == total:
            print(f"\r{label}: {index}/{total} tests", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    return value
