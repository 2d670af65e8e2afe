"""What placement "fastest" times with: timing inputs, and the structural cost-cache keys."""

from __future__ import annotations

import time

import numpy as np
import onnx_ir as ir
from onnx import TensorProto

from tests.helpers import make_model, tensor
from xinrt import measure
from xinrt.cost_cache import environment_key, nodes_signature
from xinrt.measure import resolve_dim, seeded_feeds, time_runs


def _inputs(*values):
    model = make_model([], list(values), list(values))
    return list(ir.serde.deserialize_model(model).graph.inputs)


def test_batch_like_dims_become_one_and_overrides_win():
    assert resolve_dim("batch_size", {}) == 1 and resolve_dim("N", {}) == 1
    assert resolve_dim("seq", {"seq": 7}) == 7
    assert resolve_dim("height", {}) is None
    assert resolve_dim(5, {}) == 5


def test_seeded_feeds_have_the_declared_types_and_are_reproducible():
    inputs = _inputs(tensor("x", ["batch", 3]), tensor("ids", [2], TensorProto.INT64))
    feeds, why, guessed = seeded_feeds(inputs, {})
    again, _, _ = seeded_feeds(inputs, {})
    assert why == "" and guessed == {}
    assert feeds["x"].shape == (1, 3) and feeds["x"].dtype == np.float32
    assert feeds["ids"].dtype == np.int64 and np.std(feeds["x"]) > 0
    assert set(feeds["ids"].tolist()) <= {0, 1}  # valid indices into any table
    np.testing.assert_array_equal(feeds["x"], again["x"])


def test_other_symbolic_dims_get_representative_sizes_shared_by_name():
    inputs = _inputs(
        tensor("image", ["batch", 3, "height", "width"]),
        tensor("tokens", ["batch", "seq"], TensorProto.INT64),
        tensor("mask", ["batch", "seq"], TensorProto.INT64),
    )
    feeds, why, guessed = seeded_feeds(inputs, {"width": 32})
    assert why == ""
    assert feeds["image"].shape == (1, 3, 224, 32)  # height: an image's; width: overridden
    assert feeds["tokens"].shape == feeds["mask"].shape == (1, 64)
    assert guessed == {"height": 224, "seq": 64}
    # a first dim of any name is the batch; a rank-1 input's only dim is a length
    feeds, _, guessed = seeded_feeds(_inputs(tensor("x", ["N0", 8]), tensor("t", ["len"])), {})
    assert feeds["x"].shape == (1, 8) and feeds["t"].shape == (64,)
    assert guessed == {"N0": 1, "len": 64}


def test_signatures_change_with_shapes_not_with_a_reload(mlp_model):
    first = ir.serde.deserialize_model(mlp_model).graph
    again = ir.serde.deserialize_model(mlp_model).graph
    assert nodes_signature(first, list(first.inputs)) == nodes_signature(again, list(again.inputs))
    mlp_model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 9
    changed = ir.serde.deserialize_model(mlp_model).graph
    assert nodes_signature(changed, list(changed.inputs)) != nodes_signature(
        first, list(first.inputs)
    )


def test_inputs_too_large_to_make_up_are_refused_before_allocating():
    # 2 x 10**12 x 4 float64 (58 TiB, a fuzzed model's declared input): no timing inputs, a reason
    inputs = _inputs(tensor("x", [2, 10**12, 4], TensorProto.DOUBLE))
    feeds, why, guessed = seeded_feeds(inputs, {})
    assert feeds == {} and guessed == {} and "MiB" in why and "'x'" in why


def test_a_warm_up_longer_than_the_share_is_the_measurement():
    calls = []

    def slow_run() -> None:
        calls.append(1)
        time.sleep(0.05)

    seconds = time_runs(slow_run, runs=5, max_s=0.01)
    assert len(calls) == 1 and seconds >= 0.05


def test_a_short_run_is_timed_more_often_than_asked_up_to_a_cap():
    calls = []
    seconds = time_runs(lambda: calls.append(1), runs=3)
    assert len(calls) == 1 + measure.MAX_TIMED_RUNS  # microseconds each: never 20 ms in all
    assert seconds < measure.MIN_TIMED_S


def test_a_long_run_is_timed_as_often_as_asked():
    calls = []

    def run() -> None:
        calls.append(1)
        time.sleep(measure.MIN_TIMED_S)

    time_runs(run, runs=3)
    assert len(calls) == 1 + 3


def test_cost_keys_differ_by_the_precision_asked_and_stay_unchanged_without_one():
    plain = environment_key("cpu,ort", ["host"], 2)
    assert environment_key("cpu,ort", ["host"], 2, ["", ""]) == plain  # old cache entries hold
    assert environment_key("cpu,ort", ["host"], 2, ["bf16", ""]) != plain
    assert environment_key("cpu,ort", ["host"], 2, ["bf16", ""]) != environment_key(
        "cpu,ort", ["host"], 2, ["", "bf16"]
    )


def test_a_later_turn_skips_the_warm_up_and_needs_only_its_share_of_the_minimum():
    calls = []

    def run() -> None:
        calls.append(1)
        time.sleep(measure.MIN_TIMED_S / 3)

    time_runs(run, runs=1, warm_up=False, min_s=measure.MIN_TIMED_S / 3)
    assert len(calls) == 1  # no warm-up call; one call already fills a third of MIN_TIMED_S
