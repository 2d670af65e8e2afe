"""The match rules: rtol/atol for float models; cosine and arg-max for quantized ones."""

from __future__ import annotations

import numpy as np

from xinrt.corpus.compare import compare_outputs, compare_structured, cosine


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


def _zipmap_rows(rng: np.random.Generator, labels: list) -> list[dict]:
    probabilities = rng.random((5, len(labels))).astype(np.float32).tolist()
    return [dict(zip(labels, row)) for row in probabilities]


def test_zipmap_outputs_need_equal_labels_and_probabilities_within_1e_5():
    rng = np.random.default_rng(1)
    want = _zipmap_rows(rng, [0, 1, 2])
    labels = np.array([2, 0, 1, 1, 0], np.int64)
    close = [{k: v + 8e-6 for k, v in row.items()} for row in want]
    result = compare_outputs([labels, close], [labels, want], quantized=False)
    assert result["match"] and 7e-6 < result["max_abs_error"] < 9e-6
    far = [dict(row) for row in want]
    far[3][1] += 2e-5
    result = compare_outputs([labels, far], [labels, want], quantized=False)
    assert not result["match"] and "output 1: item 3" in result["reason"]
    wrong_label = labels.copy()
    wrong_label[0] = 1
    assert not compare_outputs([wrong_label, want], [labels, want], quantized=False)["match"]


def test_zipmap_keys_must_agree_in_value_type_and_order_and_rows_in_count():
    rng = np.random.default_rng(2)
    want = _zipmap_rows(rng, ["a", "b"])
    reordered = [{"b": r["b"], "a": r["a"]} for r in want]
    assert compare_structured(reordered, want)[1].startswith("item 0: keys")
    as_ints = [{0: r["a"], 1: r["b"]} for r in want]
    assert compare_structured(as_ints, want)[1]
    assert "4 items" in compare_structured(want[:4], want)[1]
    assert compare_structured(np.zeros(5), want)[1]


def test_string_label_tensors_compare_exactly():
    want = np.array(["lo", "hi", "lo"], dtype=object)
    assert compare_outputs([want.copy()], [want], quantized=False)["match"]
    result = compare_outputs([np.array(["lo", "lo", "lo"], object)], [want], quantized=False)
    assert not result["match"] and "1 values differ" in result["reason"]
