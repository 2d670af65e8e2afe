"""Export a torch module to ONNX with the real exporters: TorchScript (opset 17) or dynamo
(opset 18), with dynamic axes. torch is imported only when a builder runs."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

TORCHSCRIPT_OPSET = 17
DYNAMO_OPSET = 18
SEED = 0


def seeded() -> None:
    """Seed torch so that random weights are the same on every build."""
    import torch

    torch.manual_seed(SEED)


def flat(model: Any, forward: Callable[..., Any]) -> Any:
    """A torch module holding `model` as its `model` attribute (the exported node names start
    with /model/) whose forward is `forward(model, *args)`: flat tensors in and out."""
    import torch

    class Flat(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: Any) -> Any:
            return forward(self.model, *args)

    return Flat()


def export_torch(
    module: Any,
    args: tuple[Any, ...],
    path: Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: dict[str, dict[int, str]],
    *,
    dynamo: bool = False,
) -> None:
    """Write `module(*args)` to `path` as one self-contained ONNX file.

    TorchScript takes `dynamic_axes`; the dynamo exporter gets the same names as dynamic
    shapes (torch.export.Dim.AUTO where a dim is dynamic).
    """
    import torch

    module.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not dynamo:
            torch.onnx.export(
                module,
                args,
                str(path),
                input_names=list(input_names),
                output_names=list(output_names),
                dynamic_axes=dynamic_axes,
                opset_version=TORCHSCRIPT_OPSET,
                dynamo=False,
                do_constant_folding=True,
            )
            return
        shapes: tuple[Any, ...] = tuple(
            {axis: torch.export.Dim.AUTO for axis in dynamic_axes.get(name, {})}
            for name in input_names
        )
        if _takes_varargs(module):  # forward(self, *args): one element holding them all
            shapes = (shapes,)
        program = torch.onnx.export(
            module,
            args,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_shapes=shapes,
            opset_version=DYNAMO_OPSET,
            dynamo=True,
            external_data=False,
            optimize=True,
        )
        assert program is not None  # dynamo=True always returns the program
        program.save(str(path), external_data=False)


def _takes_varargs(module: Any) -> bool:
    parameters = inspect.signature(module.forward).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)
