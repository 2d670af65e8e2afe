"""ORT methods xinrt does not implement, present on xinrt's classes and refused when called
with ORT's `NotImplemented` (xinrt's UnsupportedError), never missing at attribute lookup."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from ..errors import UnsupportedError


def _refusing(owner: str, name: str, hint: str) -> Callable[..., NoReturn]:
    def refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
        raise UnsupportedError(f"{owner}.{name} is not implemented by xinrt; {hint}")

    refuse.__name__ = name
    refuse.__doc__ = f"ORT's {owner}.{name}: refused (NotImplemented); {hint}"
    return refuse


def add_refused_methods(cls: type, names: Iterable[str], hint: str) -> None:
    """Give `cls` a method per name that raises NotImplemented naming what to use instead."""
    for name in names:
        if not hasattr(cls, name):
            setattr(cls, name, _refusing(cls.__name__, name, hint))


SESSION_OPTIONS_REFUSED = (
    "add_external_initializers_from_files_in_memory", "add_provider",
    "add_provider_for_devices", "clear_ep_context_data_read_func", "has_providers",
    "set_ep_context_data_read_func", "set_load_cancellation_flag",
    "set_provider_selection_policy", "set_provider_selection_policy_delegate",
)  # fmt: skip
SESSION_REFUSED = (
    "create_ortvalue_from_shape_and_type", "get_input_epdevices", "get_input_memory_infos",
    "get_output_memory_infos", "get_tuning_results", "release_captured_graph",
    "run_with_ortvaluevector", "set_ep_dynamic_options", "set_tuning_results",
)  # fmt: skip
ORTVALUE_REFUSED = ("as_sparse_tensor", "ort_value_from_sparse_tensor")
RUN_OPTIONS_REFUSED = ("add_active_adapter",)

PROVIDERS_HINT = "choose execution providers with providers=[...] or xinrt's backends=[...]"
EP_OBJECTS_HINT = "xinrt hands tensors over in CPU memory; session.placement says what ran where"
