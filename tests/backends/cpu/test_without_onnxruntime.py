"""The native backend needs no ONNX Runtime: a process where `import onnxruntime` fails still
loads xinrt, lists cpu and reference, and runs a light model wholly on cpu."""

from __future__ import annotations

import os
import subprocess
import sys

PROGRAM = """
import numpy as np, xinrt
from xinrt.testing import model_input_feeds, randomized_light_model
assert "ort" not in xinrt.available_backends(), xinrt.available_backends()
assert "onnxruntime" in xinrt.backend_info()["ort"]["reason"]
model = randomized_light_model("squeezenet", seed=0)
feeds = model_input_feeds(model, seed=1)
options = xinrt.SessionOptions(strict=True)
got = xinrt.InferenceSession(model, options, backends=["cpu"]).run(None, feeds)[0]
want = xinrt.InferenceSession(model, backends=["reference"]).run(None, feeds)[0]
np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
print("ok", xinrt.available_backends())
"""


def test_native_backend_runs_with_onnxruntime_absent(tmp_path):
    blocker = tmp_path / "onnxruntime"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('onnxruntime hidden by the test')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "XINRT_CACHE_DIR": str(tmp_path / "c")}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok") and "cpu" in result.stdout
