"""The match rules: rtol/atol for float models; cosine and arg-max for quantized ones."""

from __future__ import annotations

import numpy as np

from xinrt.corpus.compare import compare_outputs, cosine


def test_float_outputs_match_within_tolerance_and_not_beyond():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((4, 10)).astype(np.float32)
    assert compare_outputs([ref * (1 + 5e-4)], [ref], quantized=False)["match"]
    bad = ref.copy()
    bad[1, 2] += 0.01
    result = compare_outputs([bad], [ref], quantized=False)
    assert not result["match"] and "1 of 40" in result["reason"]
    assert abs(result["max_abs_error"] - 0.01) < 1e-6


def test_every_output_counts_and_shapes_must_agree():
    ref = [np.ones(3, np.float32), np.arange(4, dtype=np.int64)]
    assert compare_outputs(ref, ref, quantized=False)["match"]
    assert not compare_outputs([ref[0], ref[1] + 1], ref, quantized=False)["match"]
    assert not compare_outputs([ref[0], ref[1][:3]], ref, quantized=False)["match"]
    assert not compare_outputs(ref[:1], ref, quantized=False)["match"]


def test_quantized_outputs_use_cosine_and_arg_max():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((3, 50)).astype(np.float32)
    near = ref + 1e-3 * rng.standard_normal(ref.shape).astype(np.float32)
    result = compare_outputs([near], [ref], quantized=True, argmax_outputs=(0,))
    assert result["match"], result
    assert result["min_cosine"] > 0.9999
    noisy = ref + 0.1 * rng.standard_normal(ref.shape).astype(np.float32)
    assert not compare_outputs([noisy], [ref], quantized=True)["match"]
    ref[0, :2] = [9.0, 8.9999]
    swapped = ref.copy()
    swapped[0, :2] = [8.9999, 9.0]  # cosine stays ~1, the top class changes
    result = compare_outputs([swapped], [ref], quantized=True, argmax_outputs=(0,))
    assert result["min_cosine"] > 0.9999
    assert not result["match"] and "arg-max" in result["reason"]
    assert compare_outputs([swapped], [ref], quantized=True)["match"]


def test_cosine_of_zero_and_opposite_arrays():
    zero = np.zeros(5)
    assert cosine(zero, zero) == 1.0
    assert cosine(zero, np.ones(5)) == 0.0
    assert cosine(np.ones(5), -np.ones(5)) < -0.99
