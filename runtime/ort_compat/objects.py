"""The small objects of ORT's C API module that programs build themselves: OrtDevice,
OrtMemoryInfo, OrtValueVector and the enums around them. CPU memory only, as the rest of
xinrt's Python API; anything else is refused at use with a clear error."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError
from .errors import OrtArgumentError
from .ortvalue import OrtValue


class OrtMemType(enum.IntEnum):
    CPU_INPUT = -2
    CPU_OUTPUT = -1
    CPU = -1
    DEFAULT = 0


class OrtAllocatorType(enum.IntEnum):
    INVALID = -1
    ORT_DEVICE_ALLOCATOR = 0
    ORT_ARENA_ALLOCATOR = 1


class ArenaExtendStrategy(enum.IntEnum):
    kNextPowerOfTwo = 0
    kSameAsRequested = 1


kNextPowerOfTwo = ArenaExtendStrategy.kNextPowerOfTwo
kSameAsRequested = ArenaExtendStrategy.kSameAsRequested


class ExecutionOrder(enum.IntEnum):
    DEFAULT = 0
    PRIORITY_BASED = 1
    MEMORY_EFFICIENT = 2


class OrtSparseFormat(enum.IntEnum):
    ORT_SPARSE_UNDEFINED = 0
    ORT_SPARSE_COO = 1
    ORT_SPARSE_CSRC = 2
    ORT_SPARSE_BLOCK_SPARSE = 4


class OrtDeviceVendorId(enum.IntEnum):
    """PCI vendor ids, as ORT's OrtDevice::VendorIds."""

    NONE = 0x0000
    AMD = 0x1002
    NVIDIA = 0x10DE
    ARM = 0x13B5
    MICROSOFT = 0x1414
    HUAWEI = 0x19E5
    QUALCOMM = 0x5143
    INTEL = 0x8086


class OrtDevice:
    """A device description; xinrt's Python API hands tensors over in CPU memory only."""

    _CPU, _GPU, _NPU = 0, 1, 3

    def __init__(
        self, device_type: int = 0, memory_type: int = 0, vendor_id: int = 0, device_id: int = 0
    ) -> None:
        self._type, self._memory, self._vendor, self._id = (
            int(device_type),
            int(memory_type),
            int(vendor_id),
            int(device_id),
        )

    @staticmethod
    def make(ort_device_name: str, device_id: int, vendor_id: int = -1) -> OrtDevice:
        """ORT's OrtDevice.make("cpu" | "cuda" | "npu" ..., id): a description; only CPU
        memory can be used with it (anything else is refused where memory is asked for)."""
        gpu, npu = OrtDevice._GPU, OrtDevice._NPU
        kinds = {
            "cpu": OrtDevice._CPU,
            "cuda": gpu,
            "gpu": gpu,
            "dml": gpu,
            "webgpu": gpu,
            "npu": npu,
        }
        name = str(ort_device_name).lower()
        if name not in kinds:
            raise OrtArgumentError(
                f"OrtDevice.make: unknown device {ort_device_name!r}; expected one of "
                f"{', '.join(kinds)}"
            )
        return OrtDevice(kinds[name], 0, max(int(vendor_id), 0), int(device_id))

    @staticmethod
    def cpu() -> int:
        return OrtDevice._CPU

    @staticmethod
    def cuda() -> int:
        return OrtDevice._GPU

    @staticmethod
    def npu() -> int:
        return OrtDevice._NPU

    @staticmethod
    def default_memory() -> int:
        return 0

    def device_id(self) -> int:
        return self._id

    def device_type(self) -> int:
        return self._type

    def device_mem_type(self) -> int:
        return self._memory

    def vendor_id(self) -> int:
        return self._vendor

    def device_vendor_id(self) -> int:
        return self._vendor

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OrtDevice) and (
            (self._type, self._memory, self._vendor, self._id)
            == (other._type, other._memory, other._vendor, other._id)
        )

    def __hash__(self) -> int:
        return hash((self._type, self._memory, self._vendor, self._id))

    def __repr__(self) -> str:
        return f"OrtDevice(type={self._type}, memory={self._memory}, id={self._id})"


class OrtMemoryInfo:
    """ORT's memory info: a name ("Cpu"), allocator type, device id and memory type."""

    def __init__(
        self,
        name: str = "Cpu",
        alloc_type: int = OrtAllocatorType.ORT_ARENA_ALLOCATOR,
        device_id: int = 0,
        mem_type: int = OrtMemType.DEFAULT,
    ) -> None:
        self.name = str(name)
        self.allocator_type = OrtAllocatorType(int(alloc_type))
        self.device_id = int(device_id)
        self.mem_type = int(mem_type)
        self.device_mem_type = 0  # OrtDeviceMemoryType DEFAULT
        self.device_vendor_id = 0

    def __repr__(self) -> str:
        return f"OrtMemoryInfo({self.name!r}, device_id={self.device_id})"


class OrtArenaCfg:
    """Arena settings: checked and kept as ORT does (xinrt's backends manage their own memory)."""

    _FIELDS = ("max_mem", "arena_extend_strategy", "initial_chunk_size_bytes",
               "max_dead_bytes_per_chunk", "initial_growth_chunk_size_bytes",
               "max_power_of_two_extend_bytes")  # fmt: skip

    def __init__(self, *args: Any) -> None:
        values = dict.fromkeys(self._FIELDS, -1)
        values["max_mem"] = 0
        if len(args) == 1 and isinstance(args[0], dict):
            unknown = sorted(set(args[0]) - set(self._FIELDS))
            if unknown:
                raise OrtArgumentError(
                    f"OrtArenaCfg: unknown key(s) {unknown}; known: {', '.join(self._FIELDS)}"
                )
            values.update(args[0])
        elif len(args) == 4:
            values.update(zip(self._FIELDS, args))
        elif args:
            raise OrtArgumentError(
                "OrtArenaCfg takes a dict or (max_mem, arena_extend_strategy, "
                "initial_chunk_size_bytes, max_dead_bytes_per_chunk)"
            )
        self.__dict__.update({k: int(v) for k, v in values.items()})


class OrtValueVector(list):  # type: ignore[type-arg]
    """A list of OrtValues, as ORT's run_with_ortvaluevector takes and returns."""

    def __init__(self, values: Iterable[Any] = ()) -> None:
        super().__init__(_ort_value(v) for v in values)

    def push_back(self, value: Any) -> None:
        self.append(_ort_value(value))

    def reserve(self, size: int) -> None:
        """Nothing to reserve in a Python list."""

    def numpy_at(self, index: int) -> np.ndarray:
        return self[index].numpy()

    def element_type_at(self, index: int) -> Any:
        return self[index].element_type()

    def bool_tensor_indices(self) -> list[int]:
        return [i for i, v in enumerate(self) if v.numpy().dtype == np.bool_]


def _ort_value(value: Any) -> OrtValue:
    if isinstance(value, OrtValue):
        return value
    if isinstance(value, np.ndarray):
        return OrtValue(value)
    raise InvalidArgumentError(
        f"OrtValueVector holds OrtValues (or numpy arrays), got {type(value).__name__}"
    )
