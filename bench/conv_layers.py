"""Per-Conv-layer xinrt / ORT ratios for one light model: each distinct Conv (with its fused
BatchNorm/Relu folded away: plain Conv + Relu) timed alone, interleaved, median of runs.

    .venv/bin/python bench/conv_layers.py --model resnet50 --threads 2 --gap 0.02

`--gap` sleeps before every run so the other runtime's spinning workers are idle (fairer at 2+
threads). XINRT_WINOGRAD_OFF=1 in the environment turns the Winograd 3x3 path off (A/B).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, shape_inference

import xinrt
from xinrt.testing import randomized_light_model


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet50")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=15)
    p.add_argument("--gap", type=float, default=0.0, help="seconds idle before each run")
    a = p.parse_args()
    model = shape_inference.infer_shapes(randomized_light_model(a.model))
    shapes = {}
    for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    inits = {i.name: i for i in model.graph.initializer}
    seen: dict = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        x_shape, w = shapes.get(node.input[0]), inits.get(node.input[1])
        if not x_shape or w is None:
            continue
        attrs = {at.name: helper.get_attribute_value(at) for at in node.attribute}
        key = (tuple(x_shape), tuple(w.dims), tuple(sorted((k, str(v)) for k, v in attrs.items())))
        seen[key] = seen.get(key, 0) + 1
    rng = np.random.default_rng(0)
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    tot_x = tot_o = 0.0
    for (x_shape, w_shape, attr_items), count in seen.items():
        attrs = {k: eval(v) if v[0] in "[0123456789" else v for k, v in attr_items}
        w = rng.standard_normal(w_shape).astype(np.float32) * 0.1
        b = rng.standard_normal(w_shape[0]).astype(np.float32)
        node = helper.make_node("Conv", ["x", "w", "b"], ["c"], **attrs)
        relu = helper.make_node("Relu", ["c"], ["y"])
        g = helper.make_graph(
            [node, relu],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None] * len(x_shape))],
            [onnx.numpy_helper.from_array(w, "w"), onnx.numpy_helper.from_array(b, "b")],
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        feeds = {"x": rng.standard_normal(x_shape).astype(np.float32)}
        o = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
        x = xinrt.InferenceSession(
            m, xinrt.SessionOptions(intra_op_num_threads=a.threads), backends=["cpu"]
        )
        np.testing.assert_allclose(
            x.run(None, feeds)[0], o.run(None, feeds)[0], rtol=1e-3, atol=1e-3
        )
        tx, to, r = [], [], []
        for i in range(a.runs + 3):
            order = (x, o) if i % 2 else (o, x)
            t = {}
            for s in order:
                if a.gap:
                    time.sleep(a.gap)
                t0 = time.perf_counter()
                s.run(None, feeds)
                t[id(s)] = time.perf_counter() - t0
            if i >= 3:
                tx.append(t[id(x)])
                to.append(t[id(o)])
                r.append(t[id(x)] / t[id(o)])
        mx, mo = statistics.median(tx) * 1e3, statistics.median(to) * 1e3
        tot_x += mx * count
        tot_o += mo * count
        # Weight size already divides by the group count; padding is ignored (approximate).
        strides = attrs.get("strides", [1, 1])
        flops = 2 * np.prod(w_shape) * np.prod(x_shape[2:]) / np.prod(strides)
        print(
            f"x{count:2d} {str(x_shape):20s} {str(w_shape):20s} {str(dict(attrs)):60s} "
            f"ratio {statistics.median(r):5.2f} "
            f"xinrt {mx:6.3f} ms ort {mo:6.3f} ms  ~{flops / mx / 1e6:6.1f} GFLOPS",
            flush=True,
        )
    print(f"sum xinrt {tot_x:.2f} ms  ort {tot_o:.2f} ms  ratio {tot_x / tot_o:.2f}")


if __name__ == "__main__":
    main()
