"""`onnxruntime.backend` under the drop-in is xinrt's onnx-backend adapter (prepare, run,
supports_device), not xinrt's own `xinrt.backend` (the backend contract), and gives ORT's
results."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from onnx import helper, numpy_helper

from tests.helpers import make_model, tensor

ort = pytest.importorskip("onnxruntime")

_PROGRAM = """
import json, sys
import numpy as np
import xinrt
xinrt.install_as_onnxruntime()
import onnxruntime.backend as backend
from onnxruntime.backend import prepare, run, supports_device
rep = prepare(sys.argv[1], "CPU")
x = np.array(json.loads(sys.argv[2]), dtype=np.float32)
print(json.dumps({
    "prepared": rep.run([x])[0].tolist(),
    "run": run(__import__("onnx").load(sys.argv[1]), [x])[0].tolist(),
    "cpu": supports_device("CPU"), "cuda": supports_device("CUDA"),
    "contract_is_separate": xinrt.backend.Backend is not None and backend is not xinrt.backend,
}))
"""


def test_onnxruntime_backend_under_the_drop_in_matches_ort(tmp_path):
    rng = np.random.default_rng(8)
    weight = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "W")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")]
    model = make_model(nodes, [tensor("x", [2, 4])], [tensor("y", [2, 3])], [weight])
    path = tmp_path / "mm.onnx"
    path.write_bytes(model.SerializeToString())
    x = rng.standard_normal((2, 4)).astype(np.float32)
    result = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(path), json.dumps(x.tolist())],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ours = json.loads(result.stdout.strip().splitlines()[-1])
    import onnxruntime.backend as real_backend

    theirs = real_backend.prepare(str(path), "CPU").run([x])[0]
    np.testing.assert_allclose(ours["prepared"], theirs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours["run"], theirs, rtol=1e-5, atol=1e-6)
    assert (ours["cpu"], ours["cuda"]) == (real_backend.supports_device("CPU"), False)
    assert ours["contract_is_separate"]
