"""The comparison server for bench/serve.py: PyTriton (a real Triton 2.51 from the
nvidia-pytriton wheel) serving raw ONNX Runtime, in the layout docs/serving.md's study found best:
two model instances of one ORT session with one thread each, Triton's dynamic batcher (max 8,
2 ms). Runs in its own venv (PyTriton pins numpy<2); bench/serve.py starts and stops it.

    python pytriton_server.py REPO/NAME/1/MODEL.onnx HTTP_PORT GRPC_PORT METRICS_PORT WORKSPACE
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnxruntime
from pytriton.decorators import batch
from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor
from pytriton.triton import Triton, TritonConfig


def main(model: str, http_port: int, grpc_port: int, metrics_port: int, workspace: str) -> None:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    sessions = [
        onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        for _ in range(2)
    ]
    name_in = sessions[0].get_inputs()[0].name
    name_out = sessions[0].get_outputs()[0].name
    shape_in = tuple(sessions[0].get_inputs()[0].shape[1:])
    shape_out = tuple(sessions[0].get_outputs()[0].shape[1:])

    def instance(session: onnxruntime.InferenceSession):  # one callable per Triton instance
        @batch
        def infer(**inputs: np.ndarray) -> dict[str, np.ndarray]:
            return {name_out: session.run(None, {name_in: inputs[name_in]})[0]}

        return infer

    config = TritonConfig(
        http_address="127.0.0.1",
        http_port=http_port,
        grpc_address="127.0.0.1",
        grpc_port=grpc_port,
        metrics_port=metrics_port,
    )
    with Triton(config=config, workspace=workspace) as triton:  # not in ~/.cache
        triton.bind(
            model_name=Path(model).parents[1].name,  # repo/<name>/1/model.onnx
            infer_func=[instance(s) for s in sessions],
            inputs=[Tensor(name=name_in, dtype=np.float32, shape=shape_in)],
            outputs=[Tensor(name=name_out, dtype=np.float32, shape=shape_out)],
            config=ModelConfig(
                max_batch_size=8, batcher=DynamicBatcher(max_queue_delay_microseconds=2000)
            ),
        )
        print("pytriton: ready", flush=True)
        triton.serve()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
