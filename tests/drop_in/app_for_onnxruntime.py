"""A program written for onnxruntime, run unmodified by the drop-in tests (never imports xinrt)."""

import sys

import numpy as np
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

model_path = sys.argv[1]
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
options.log_severity_level = 3
options.enable_mem_pattern = False
options.add_session_config_entry("session.intra_op.allow_spinning", "0")
session = ort.InferenceSession(
    model_path, sess_options=options,
    providers=[("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})],
)
meta = session.get_modelmeta()
props = sorted(meta.custom_metadata_map.items())
print("meta", meta.producer_name, meta.graph_name, meta.version, props)
for arg in session.get_inputs() + session.get_outputs():
    print("arg", arg.name, arg.shape, arg.type)
rng = np.random.default_rng(0)
feeds = {"x": rng.standard_normal((5, 2, 3)).astype(np.float32), "flag": np.array(True)}
for flag in (True, False):
    feeds["flag"] = np.array(flag)
    hidden, = session.run(["hidden"], feeds)
    print("hidden", flag, np.round(hidden, 4).ravel().tolist())
y, hidden = session.run(None, feeds)
print("y", y.shape, np.round(y, 4).ravel()[:12].tolist())
try:
    session.run(None, {"x": feeds["x"].astype(np.float64), "flag": feeds["flag"]})
except InvalidArgument:
    print("wrong dtype: InvalidArgument")
