"""Rounding error of Winograd F(2x2, 3x3) and F(4x4, 3x3) against the direct convolution, on the
3x3 stride-1 layers of ResNet-50 (post-Relu inputs, He-scaled weights, seeded), and of the native
`cpu` Conv (which runs F(2x2, 3x3)) against float64 and ONNX Runtime.

    .venv/bin/python bench/winograd_accuracy.py

Columns: relative L2 error, max |error|, and whether every element meets the GEMM tolerance the
native Conv tests use (|err| <= 1e-5 + 1e-4 |want|). The F(m, 3) rows simulate the algorithm in
float32 numpy (transforms and products rounded to float32, weights transformed in float64).
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from xinrt import _native

LAYERS = [(64, 56), (128, 28), (256, 14), (512, 7)]  # (channels in = out, spatial size)

BT = {
    2: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    4: [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
}
G = {
    2: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    4: [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
}
AT = {
    2: [[1, 1, 1, 0], [0, 1, -1, -1]],
    4: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
}


def direct(x: np.ndarray, w: np.ndarray, dtype: type) -> np.ndarray:
    """3x3 convolution with pads 1 as one GEMM in `dtype`."""
    c, h, wd = x.shape
    xp: np.ndarray = np.pad(x, ((0, 0), (1, 1), (1, 1))).astype(dtype)
    taps = [xp[:, i : i + h, j : j + wd] for i in range(3) for j in range(3)]
    cols = np.stack(taps, 1).reshape(c * 9, h * wd)
    return (w.reshape(w.shape[0], -1).astype(dtype) @ cols).reshape(-1, h, wd)


def winograd(x: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """F(m x m, 3x3) in float32 (pads 1)."""
    bt, g, at = (np.array(t[m], np.float64) for t in (BT, G, AT))
    a = m + 2
    c, h, wd = x.shape
    th, tw = -(-h // m), -(-wd // m)
    xp: np.ndarray = np.zeros((c, th * m + 2, tw * m + 2))
    xp[:, 1 : h + 1, 1 : wd + 1] = x
    u = np.einsum("ik,mckl,jl->ijmc", g, w, g).astype(np.float32)
    d = np.stack(
        [
            np.stack([xp[:, ty * m : ty * m + a, tx * m : tx * m + a] for tx in range(tw)], 1)
            for ty in range(th)
        ],
        1,
    ).astype(np.float32)
    bt32, at32 = bt.astype(np.float32), at.astype(np.float32)
    v = np.einsum("ik,ctskl,jl->ijcts", bt32, d, bt32)
    prod = np.einsum("ijmc,ijcts->ijmts", u, v)
    y = np.einsum("ik,klmts,jl->mtsij", at32, prod, at32)
    return y.transpose(0, 1, 3, 2, 4).reshape(-1, th * m, tw * m)[:, :h, :wd]


def native_and_ort(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The native cpu Conv's output, ORT's, and how many native runs took Winograd."""
    node = ("Conv", "", 13, [0, 1], [2], {"pads": [1, 1, 1, 1]}, "conv")
    plan = _native.Plan([node], 3, [0], [2], {1: w}, 1)
    before = _native.conv_winograd_runs()
    got = plan.run([x[None]])[0][0]
    runs = _native.conv_winograd_runs() - before
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, *x.shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [onnx.numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return got, sess.run(None, {"x": x[None]})[0][0], runs


def report(name: str, got: np.ndarray, want: np.ndarray) -> None:
    err = got.astype(np.float64) - want
    rel = np.linalg.norm(err) / np.linalg.norm(want)
    ok = bool(np.all(np.abs(err) <= 1e-5 + 1e-4 * np.abs(want)))
    print(f"  {name:28s} rel L2 {rel:.2e}  max |err| {np.abs(err).max():.2e}  GEMM tol {ok}")


def main() -> None:
    rng = np.random.default_rng(0)
    for ch, size in LAYERS:
        x = np.abs(rng.standard_normal((ch, size, size))).astype(np.float32)
        w = (rng.standard_normal((ch, ch, 3, 3)) * np.sqrt(2 / (9 * ch))).astype(np.float32)
        want = direct(x.astype(np.float64), w.astype(np.float64), np.float64)
        print(f"{ch}->{ch} 3x3 at {size}x{size} (|y| max {np.abs(want).max():.2f})")
        report("direct float32 GEMM", direct(x, w, np.float32), want)
        report("F(2x2,3x3) float32 (numpy)", winograd(x, w, 2), want)
        report("F(4x4,3x3) float32 (numpy)", winograd(x, w, 4), want)
        got, ort_y, runs = native_and_ort(x, w)
        report(f"xinrt cpu (Winograd runs {runs})", got, want)
        report("ORT CPU", ort_y, want)
        report("xinrt cpu vs ORT", got, ort_y.astype(np.float64))


if __name__ == "__main__":
    main()
