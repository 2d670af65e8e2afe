"""xinrt as an `onnx.backend.base.Backend`: onnx's BackendTest (and tools built on it) run it.

    import onnx.backend.test
    from xinrt import onnx_backend

    backend = onnx_backend.with_backends(["cpu", "ort"], strict=False)
    globals().update(onnx.backend.test.BackendTest(backend, __name__).test_cases)

`prepare(model, device="CPU", backends=[...], strict=False)` builds an
`xinrt.InferenceSession(model, SessionOptions(strict=...), backends=...)`; the rep's `run`
feeds inputs positionally (or by name from a dict) and returns the outputs as a tuple.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep, Device, DeviceType, namedtupledict

from .errors import InvalidArgumentError, InvalidInputError
from .options import SessionOptions
from .session import InferenceSession


class XinrtBackendRep(BackendRep):
    """A prepared model: one xinrt InferenceSession, run with positional or named inputs."""

    def __init__(self, session: InferenceSession) -> None:
        self.session = session
        self._input_names = [arg.name for arg in session.get_inputs()]
        self._output_names = [arg.name for arg in session.get_outputs()]

    def run(self, inputs: Any, **kwargs: Any) -> tuple[Any, ...]:
        """Run on a list of arrays (model input order), a dict name -> array, or one array."""
        feeds = self._feeds(inputs)
        outputs = self.session.run(None, feeds)
        return namedtupledict("Outputs", self._output_names)(*outputs)  # type: ignore[no-any-return]

    def _feeds(self, inputs: Any) -> dict[str, Any]:
        if isinstance(inputs, Mapping):
            return dict(inputs)
        if isinstance(inputs, np.ndarray) or not isinstance(inputs, (list, tuple)):
            inputs = [inputs]
        if len(inputs) > len(self._input_names):
            raise InvalidInputError(
                f"got {len(inputs)} inputs, the model takes {len(self._input_names)}: "
                f"{', '.join(self._input_names) or '(none)'}"
            )
        # onnx's tests leave trailing optional inputs out; those stay unfed (the session says so)
        return dict(zip(self._input_names, inputs))


def _names(backends: Sequence[str] | str) -> list[str]:
    if isinstance(backends, str):
        return [b.strip() for b in backends.split(",") if b.strip()]
    return list(backends)


def _device_type(device: str) -> Any:
    return Device(device).type


def _check_device(device: str) -> None:
    try:
        kind = _device_type(device)
    except Exception:  # onnx raises a bare KeyError/ValueError on an unknown device string
        raise InvalidArgumentError(f"unknown device {device!r}; xinrt runs on 'CPU'") from None
    if kind != DeviceType.CPU:
        raise InvalidArgumentError(
            f"device {device!r} is not supported by xinrt's onnx backend: accelerators are chosen "
            "with backends=[...] (e.g. 'ort:cuda'), and the device must be 'CPU'"
        )


class XinrtBackend(Backend):
    """The onnx backend API over xinrt; `backends` and `strict` choose the placement."""

    default_backends: Sequence[str] | None = None  # None = xinrt's default chain
    default_strict: bool = False
    default_options: dict[str, Any] = {}  # replaced per class, never mutated

    @classmethod
    def is_compatible(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> bool:
        """True for device CPU (placement decides later whether the nodes can run)."""
        return cls.supports_device(device)

    @classmethod
    def prepare(
        cls,
        model: onnx.ModelProto | bytes | str,
        device: str = "CPU",
        backends: Sequence[str] | str | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> XinrtBackendRep:
        """Build an InferenceSession for the model on `backends` (priority order)."""
        _check_device(device)
        options = SessionOptions(strict=cls.default_strict if strict is None else bool(strict))
        for key, value in {**cls.default_options, **kwargs}.items():
            if not hasattr(options, key):
                raise InvalidArgumentError(
                    f"prepare() got unknown option {key!r}; SessionOptions fields and "
                    "backends=, strict= are accepted"
                )
            setattr(options, key, value)
        chosen = cls.default_backends if backends is None else _names(backends)
        session = InferenceSession(model, options, backends=list(chosen) if chosen else None)
        return XinrtBackendRep(session)

    @classmethod
    def run_model(
        cls, model: onnx.ModelProto, inputs: Any, device: str = "CPU", **kwargs: Any
    ) -> tuple[Any, ...]:
        """prepare() then run() once."""
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(
        cls,
        node: onnx.NodeProto,
        inputs: Any,
        device: str = "CPU",
        outputs_info: Sequence[tuple[np.dtype, tuple[int, ...]]] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, ...] | None:
        """Run a single node by wrapping it in a model (types from the inputs and outputs_info)."""
        super().run_node(node, inputs, device=device, outputs_info=outputs_info, **kwargs)
        arrays = [np.asarray(x) for x in inputs]
        value_infos = [
            onnx.helper.make_tensor_value_info(
                name, onnx.helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape)
            )
            for name, a in zip(node.input, arrays)
            if name
        ]
        if outputs_info is not None:
            outputs = [
                onnx.helper.make_tensor_value_info(
                    name, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), list(shape)
                )
                for name, (dtype, shape) in zip(node.output, outputs_info)
            ]
        else:
            outputs = [onnx.helper.make_empty_tensor_value_info(name) for name in node.output]
        graph = onnx.helper.make_graph([node], "run_node", value_infos, outputs)
        opset = kwargs.pop("opset_version", None)
        opsets = [onnx.helper.make_opsetid(node.domain or "", opset)] if opset else None
        model = onnx.helper.make_model(graph, opset_imports=opsets)
        if outputs_info is None:  # output types from shape inference (the checker wants them)
            model = onnx.shape_inference.infer_shapes(model)
        return cls.run_model(
            model, [a for name, a in zip(node.input, arrays) if name], device, **kwargs
        )

    @classmethod
    def supports_device(cls, device: str) -> bool:
        """xinrt's onnx backend runs on CPU; accelerators are xinrt backends, not onnx devices."""
        try:
            return bool(_device_type(device) == DeviceType.CPU)
        except Exception:
            return False


def with_backends(
    backends: Sequence[str] | str | None = None, strict: bool = False, **options: Any
) -> type[XinrtBackend]:
    """An XinrtBackend class whose prepare() defaults to these backends, strictness and options.

    BackendTest calls `prepare(model, device)` without our keywords: bind them here. `options`
    are SessionOptions fields (e.g. log_severity_level=3).
    """
    chosen = _names(backends) if backends is not None else None
    label = ",".join(chosen) if chosen else "default"
    return type(
        f"XinrtBackend[{label}{', strict' if strict else ''}]",
        (XinrtBackend,),
        {
            "default_backends": chosen or None,
            "default_strict": strict,
            "default_options": dict(options),
        },
    )


prepare = XinrtBackend.prepare
run_model = XinrtBackend.run_model
run_node = XinrtBackend.run_node
supports_device = XinrtBackend.supports_device
is_compatible = XinrtBackend.is_compatible

__all__ = [
    "XinrtBackend",
    "XinrtBackendRep",
    "is_compatible",
    "prepare",
    "run_model",
    "run_node",
    "supports_device",
    "with_backends",
]
