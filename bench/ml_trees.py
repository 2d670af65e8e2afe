"""xinrt cpu / ORT latency ratios for tree ensembles (ai.onnx.ml), interleaved A B A B.

    .venv/bin/python bench/ml_trees.py --threads 1,2 --runs 21

Models, trained on seeded synthetic data (20 features) and converted with skl2onnx (ZipMap
off): a 100-tree RandomForestClassifier (max_depth 10, 3 classes) and a 300-round
GradientBoostingRegressor (max_depth 4; LightGBM's 300-round model when lightgbm and
onnxmltools are installed, --booster lightgbm). Batch 1 and 1,000. Each round times one ORT run
and one xinrt run (order alternating) after --gap-ms of idle time (see bench/recurrent.py for
why); the figure is the median of per-round ratios, plus each side's median ms. Outputs are
checked against ORT (labels equal, scores within 1e-5) before timing.

The trainers' OpenMP workers (LightGBM, scikit-learn) would spin-wait after training and take
CPU from both runtimes' timed runs, so they are told to sleep (OMP_WAIT_POLICY=PASSIVE).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before any OpenMP runtime loads

import argparse  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from interleave import interleaved_ratio  # noqa: E402

import xinrt  # noqa: E402

FEATURES = 20


def data(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, FEATURES)).astype(np.float32)


def train(kind: str, booster: str) -> bytes:
    """The ONNX bytes of a trained `forest` or `boosting` model."""
    x = data(3000, 0)
    score = x[:, 0] - x[:, 1] * x[:, 2] + 0.5 * np.sin(3 * x[:, 3])
    initial = None
    if kind == "forest":
        from sklearn.ensemble import RandomForestClassifier

        y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
        model: Any = RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0)
        model.fit(x, y)
    elif booster == "lightgbm":
        import lightgbm
        import onnxmltools
        from onnxmltools.convert.common.data_types import FloatTensorType as MlFloat

        model = lightgbm.LGBMRegressor(n_estimators=300, num_leaves=15, verbose=-1).fit(x, score)
        onx = onnxmltools.convert_lightgbm(
            model, initial_types=[("x", MlFloat([None, FEATURES]))], target_opset=15
        )
        return bytes(onx.SerializeToString())
    else:
        from sklearn.ensemble import GradientBoostingRegressor

        model = GradientBoostingRegressor(n_estimators=300, max_depth=4, random_state=0)
        model.fit(x, score)
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    options = {id(model): {"zipmap": False}} if kind == "forest" else None
    initial = [("x", FloatTensorType([None, FEATURES]))]
    onx = to_onnx(
        model, initial_types=initial, options=options, target_opset={"": 17, "ai.onnx.ml": 3}
    )
    return bytes(onx.SerializeToString())


def measure(model: bytes, batch: int, threads: int, runs: int, gap_s: float) -> tuple[float, ...]:
    """(median ratio, median xinrt ms, median ORT ms)."""
    feeds = {"x": data(batch, 1)}
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    o = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    x = xinrt.InferenceSession(
        model, xinrt.SessionOptions(intra_op_num_threads=threads), backends=["cpu"]
    )
    assert {n.backend for n in x.placement.nodes} == {"cpu"}, str(x.placement)
    for a, b in zip(o.run(None, feeds), x.run(None, feeds)):
        if np.issubdtype(a.dtype, np.integer):
            np.testing.assert_array_equal(b, a)
        else:
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)
    for _ in range(3):
        o.run(None, feeds)
        x.run(None, feeds)
    return interleaved_ratio(x, o, feeds, runs, gap_s)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", default="1,2")
    p.add_argument("--batches", default="1,1000")
    p.add_argument("--runs", type=int, default=21)
    p.add_argument("--gap-ms", type=float, default=50.0)
    p.add_argument("--booster", choices=["sklearn", "lightgbm"], default="sklearn")
    a = p.parse_args()
    models = {
        "rf100_classifier": train("forest", a.booster),
        f"{a.booster}_300_regressor": train("boosting", a.booster),
    }
    print(f"{'model':<26} {'batch':>5} {'threads':>7} {'xinrt ms':>9} {'ORT ms':>8} {'ratio':>6}")
    for name, model in models.items():
        for batch in [int(b) for b in a.batches.split(",")]:
            for threads in [int(t) for t in a.threads.split(",")]:
                r, tx, to = measure(model, batch, threads, a.runs, a.gap_ms / 1e3)
                print(
                    f"{name:<26} {batch:>5} {threads:>7} {tx:>9.3f} {to:>8.3f} {r:>6.2f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
