"""ORT's OrtValue for CPU memory: a tensor handed to or returned by a session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx_ir as ir

from ..types import numpy_type_string
from .errors import OrtArgumentError
from .refusals import ORTVALUE_REFUSED, add_refused_methods

_DLPACK_CPU = 1  # DLDeviceType kDLCPU


def cpu_only(device_type: str, what: str) -> None:
    """Refuse a device other than the CPU: xinrt's Python API hands tensors over in CPU memory
    (a RuntimeError, as ORT's CPU build raises)."""
    if str(device_type).lower() != "cpu":
        raise OrtArgumentError(
            f"{what}: device {device_type!r} is not available to xinrt's Python API; only 'cpu' "
            "memory can be bound (device backends keep their own buffers)"
        )


class OrtValue:
    """A CPU tensor handed to or returned by a session; wraps (does not copy) a numpy array."""

    def __init__(self, array: np.ndarray, onnx_type: int | None = None) -> None:
        self._array = array
        # An ONNX element type numpy has no dtype for (float8, int4 ...): the array holds its
        # bytes, as ORT's ortvalue_from_numpy_with_onnx_type keeps them.
        self._onnx_type = onnx_type

    @staticmethod
    def ortvalue_from_numpy(
        array: np.ndarray, device_type: str = "cpu", device_id: int = 0
    ) -> OrtValue:
        cpu_only(device_type, "OrtValue.ortvalue_from_numpy")
        return OrtValue(np.asarray(array))

    @staticmethod
    def ortvalue_from_numpy_with_onnx_type(data: np.ndarray, onnx_element_type: int) -> OrtValue:
        """Bytes of an ONNX element type numpy lacks (e.g. float8 in a uint8 array); the
        array's item size must be the type's, as ORT checks."""
        array = np.asarray(data)
        try:
            wanted = ir.DataType(int(onnx_element_type))
        except ValueError:
            raise OrtArgumentError(
                f"ortvalue_from_numpy_with_onnx_type: {onnx_element_type!r} is not an ONNX "
                "element type (onnx.TensorProto.FLOAT8E4M3FN ...)"
            ) from None
        if array.dtype.kind not in "iub" or array.itemsize * 8 != max(wanted.bitwidth, 8):
            raise OrtArgumentError(
                f"ortvalue_from_numpy_with_onnx_type: a {array.dtype} array cannot hold "
                f"{wanted.name} elements; give an integer array of the same item size"
            )
        return OrtValue(array, int(onnx_element_type))

    @staticmethod
    def from_dlpack(data: Any) -> OrtValue:
        """An OrtValue sharing the memory of any DLPack producer on the CPU (numpy, torch ...)."""
        device = getattr(data, "__dlpack_device__", lambda: (_DLPACK_CPU, 0))()
        if int(device[0]) != _DLPACK_CPU:
            raise OrtArgumentError(
                f"OrtValue.from_dlpack: device {tuple(device)} is not the CPU; xinrt's Python "
                "API takes CPU memory only"
            )
        return OrtValue(np.from_dlpack(data))

    @staticmethod
    def ortvalue_from_shape_and_type(
        shape: Sequence[int],
        element_type: Any = np.float32,
        device_type: str = "cpu",
        device_id: int = 0,
    ) -> OrtValue:
        cpu_only(device_type, "OrtValue.ortvalue_from_shape_and_type")
        return OrtValue(np.empty(tuple(shape), dtype=element_type))

    def numpy(self) -> np.ndarray:
        return self._array

    def shape(self) -> list[int]:
        return list(self._array.shape)

    def data_type(self) -> str:
        if self._onnx_type is not None:
            return f"tensor({ir.DataType(self._onnx_type).name.lower()})"
        return numpy_type_string(self._array.dtype)

    def element_type(self) -> int:
        """The ONNX element type number (onnx.TensorProto.FLOAT = 1 ...), as ORT returns it."""
        if self._onnx_type is not None:
            return self._onnx_type
        return int(ir.DataType.from_numpy(self._array.dtype))

    def typed_array(self) -> np.ndarray:
        """The array as a session takes it (float8 & co. viewed as ml_dtypes' types)."""
        if self._onnx_type is None:
            return self._array
        return self._array.view(ir.DataType(self._onnx_type).numpy())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = self._array if dtype is None else self._array.astype(dtype, copy=False)
        return np.array(array, copy=True) if copy else array

    def __dlpack__(self, *, stream: Any = None, **kwargs: Any) -> Any:
        return self._array.__dlpack__()

    def __dlpack_device__(self) -> tuple[int, int]:
        return (_DLPACK_CPU, 0)

    def device_name(self) -> str:
        return "cpu"

    def data_ptr(self) -> int:
        return int(self._array.ctypes.data)

    def is_tensor(self) -> bool:
        return True

    def has_value(self) -> bool:
        return True

    def is_tensor_sequence(self) -> bool:
        return False

    def is_sparse_tensor(self) -> bool:
        return False

    def tensor_size_in_bytes(self) -> int:
        return int(self._array.nbytes)

    def update_inplace(self, array: np.ndarray) -> None:
        np.copyto(self._array, array)


add_refused_methods(
    OrtValue, ORTVALUE_REFUSED, "xinrt takes sparse tensors as sparse initializers only"
)
