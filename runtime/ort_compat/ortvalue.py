"""ORT's OrtValue for CPU memory: a tensor handed to or returned by a session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from ..types import numpy_type_string


def cpu_only(device_type: str, what: str) -> None:
    """Refuse a device other than the CPU: xinrt's Python API hands tensors over in CPU memory."""
    if str(device_type).lower() != "cpu":
        raise InvalidArgumentError(
            f"{what}: device {device_type!r} is not available to xinrt's Python API; only 'cpu' "
            "memory can be bound (device backends keep their own buffers)"
        )


class OrtValue:
    """A CPU tensor handed to or returned by a session; wraps (does not copy) a numpy array."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    @staticmethod
    def ortvalue_from_numpy(
        array: np.ndarray, device_type: str = "cpu", device_id: int = 0
    ) -> OrtValue:
        cpu_only(device_type, "OrtValue.ortvalue_from_numpy")
        return OrtValue(np.asarray(array))

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
        return numpy_type_string(self._array.dtype)

    def element_type(self) -> Any:
        return self._array.dtype.type

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
