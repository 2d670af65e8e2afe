"""Does xinrt's answer match ONNX Runtime's? Float models: rtol/atol on every output.
Quantized models: cosine similarity and equal arg-max where the output is a classification."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..bench.harness import check_accuracy

RTOL = 1e-3
ATOL = 1e-4
MIN_COSINE = 0.9999


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
