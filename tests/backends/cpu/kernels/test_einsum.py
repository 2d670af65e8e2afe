"""csrc/kernels/einsum.cc: common Einsum equations on cpu alone (strict), against onnx.reference;
ellipsis equations are declined with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from tests.backends.cpu.strict_op import check_op, cpu_reason

pytest.importorskip("xinrt._native")

CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ("bhqk,bhkd->bhqd", [(1, 2, 3, 5), (1, 2, 5, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,j", [(3, 4), (4,)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 2)]),
    ("nchw,oc->nohw", [(1, 3, 2, 2), (4, 3)]),
    ("Bi,iA->BA", [(2, 3), (3, 4)]),
]


@pytest.mark.parametrize("equation,shapes", CASES, ids=[c[0] for c in CASES])
def test_einsum_matches_reference(equation, shapes):
    rng = np.random.default_rng(81)
    xs = [rng.uniform(-1, 1, size=s).astype(np.float32) for s in shapes]
    check_op("Einsum", xs, {"equation": equation}, opset=12, tol={"rtol": 1e-5, "atol": 1e-5})


def test_einsum_int64():
    rng = np.random.default_rng(82)
    xs = [rng.integers(-5, 5, size=s).astype(np.int64) for s in [(3, 4), (4, 2)]]
    check_op("Einsum", xs, {"equation": "ij,jk->ik"}, opset=12)


def test_ellipsis_is_declined_with_reason():
    x = np.ones((2, 3, 4), np.float32)
    assert "ellipsis" in cpu_reason("Einsum", [x, x], {"equation": "...ij,...kj->...ik"}, opset=12)
