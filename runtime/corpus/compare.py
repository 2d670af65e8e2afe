"""Does xinrt's answer match ONNX Runtime's? Float models: rtol/atol on every output.
Quantized models: cosine similarity and equal arg-max where the output is a classification.
Classic ML: string tensors (labels) equal; ZipMap's lists of {label: probability} dicts with
the same labels in the same order and probabilities within 1e-5."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..bench.harness import check_accuracy

RTOL = 1e-3
ATOL = 1e-4
MIN_COSINE = 0.9999
MAP_ATOL = 1e-5  # ZipMap probabilities


def compare_structured(actual: Any, expected: Any) -> tuple[float, str]:
    """(max abs error, reason or "") of a list of dicts, a dict or a string tensor."""
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            got = f"{len(actual)} items" if isinstance(actual, list) else type(actual).__name__
            return 0.0, f"a list of {len(expected)} items, xinrt gave {got}"
        worst = 0.0
        for row, (a, e) in enumerate(zip(actual, expected)):
            error, reason = compare_structured(a, e)
            if reason:
                return worst, f"item {row}: {reason}"
            worst = max(worst, error)
        return worst, ""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or list(actual) != list(expected):
            shown = list(actual) if isinstance(actual, dict) else type(actual).__name__
            return 0.0, f"keys {list(expected)}, xinrt gave {shown}"
        if any(type(a) is not type(e) for a, e in zip(actual, expected)):
            return 0.0, "key types differ"
        a = np.array(list(actual.values()), np.float64)
        e = np.array(list(expected.values()), np.float64)
        diff = np.where(np.isnan(a) & np.isnan(e), 0.0, np.abs(a - e))
        worst = float(np.max(diff)) if diff.size else 0.0
        if not np.all(diff <= MAP_ATOL):  # NaN is bad
            return worst, f"a value differs by {worst:.3g} > {MAP_ATOL}"
        return worst, ""
    a, e = np.asarray(actual), np.asarray(expected)
    if a.shape != e.shape or not np.array_equal(a, e):
        return 0.0, f"{int(np.sum(a != e)) if a.shape == e.shape else 'shape'} values differ"
    return 0.0, ""


def _structured(value: Any) -> bool:
    """Outputs compared by compare_structured: lists, dicts, string/object tensors."""
    return isinstance(value, (list, dict)) or np.asarray(value).dtype.kind in "OSU"


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two arrays, flattened; 1.0 when both are all zeros."""
    x = a.astype(np.float64).ravel()
    y = b.astype(np.float64).ravel()
    nx, ny = float(np.linalg.norm(x)), float(np.linalg.norm(y))
    if nx == 0.0 and ny == 0.0:
        return 1.0
    if nx == 0.0 or ny == 0.0 or not (np.isfinite(nx) and np.isfinite(ny)):
        return 0.0
    return float(np.dot(x, y) / (nx * ny))


def compare_outputs(
    actual: Sequence[np.ndarray],
    expected: Sequence[np.ndarray],
    quantized: bool,
    argmax_outputs: Sequence[int] = (),
) -> dict[str, Any]:
    """{"match", "reason", "max_abs_error", "max_rel_error", "min_cosine"} of xinrt vs ORT."""
    if len(actual) == len(expected) and any(_structured(e) for e in expected):
        return _compare_with_structured(actual, expected, quantized, argmax_outputs)
    base = check_accuracy(actual, expected, RTOL, ATOL)
    result: dict[str, Any] = {
        "match": bool(base["passed"]),
        "reason": base["reason"],
        "max_abs_error": base["max_abs_error"],
        "max_rel_error": base["max_rel_error"],
        "min_cosine": None,
    }
    if not quantized or len(actual) != len(expected):
        return result
    result.update(match=True, reason="")
    worst = 1.0
    for index, (a, e) in enumerate(zip(actual, expected)):
        a, e = np.asarray(a), np.asarray(e)
        if a.shape != e.shape:
            result.update(
                match=False, reason=f"output {index}: shape {list(a.shape)}, ORT {list(e.shape)}"
            )
            continue
        if e.dtype.kind not in "fc":
            if not np.array_equal(a, e):
                result.update(
                    match=False,
                    reason=result["reason"]
                    or f"output {index}: {int(np.sum(a != e))} of {a.size} values differ",
                )
            continue
        similarity = cosine(a, e)
        worst = min(worst, similarity)
        if similarity < MIN_COSINE:
            result.update(
                match=False,
                reason=result["reason"]
                or f"output {index}: cosine {similarity:.6f} < {MIN_COSINE}",
            )
        if index in argmax_outputs and a.size and a.ndim >= 1:
            differ = int(np.sum(np.argmax(a, axis=-1) != np.argmax(e, axis=-1)))
            if differ:
                result.update(
                    match=False,
                    reason=result["reason"]
                    or f"output {index}: arg-max differs at {differ} positions",
                )
    result["min_cosine"] = worst
    return result


def _compare_with_structured(
    actual: Sequence[Any], expected: Sequence[Any], quantized: bool, argmax_outputs: Sequence[int]
) -> dict[str, Any]:
    """The tensors as compare_outputs compares them, the structured outputs exactly (labels)
    or within MAP_ATOL (probabilities)."""
    plain = [i for i, e in enumerate(expected) if not _structured(e)]
    result = compare_outputs(
        [actual[i] for i in plain],
        [expected[i] for i in plain],
        quantized,
        [plain.index(i) for i in argmax_outputs if i in plain],
    )
    if result["reason"]:  # name outputs by their index in the model
        result["reason"] = f"{result['reason']} (of the tensor outputs {plain})"
    for index, (a, e) in enumerate(zip(actual, expected)):
        if index in plain:
            continue
        error, reason = compare_structured(a, e)
        result["max_abs_error"] = max(result["max_abs_error"] or 0.0, error)
        if reason and result["match"]:
            result.update(match=False, reason=f"output {index}: {reason}")
    return result
