"""Placement "fastest" again at the first run, on its own inputs, where creation had to guess.

At creation "fastest" times the candidates on made-up inputs: symbolic dims at representative
sizes, random values. Where a size was guessed, or a candidate failed on the made-up values, the
choice may not hold for what the program really runs: a voice-activity model timed on 64 samples
instead of 512, a decoder whose position table refuses 224 past tokens. The session's first run
then times the candidates again on that run's inputs (within placement_budget_s, the costs cached
under those shapes) and switches to the placement that wins before running.
`SessionOptions.placement_first_run = False` keeps the creation's choice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import onnx_ir as ir

from .graph_utils import name_of
from .measure import timing_shapes


class FirstRunPlacement:
    """Whether the first run places again, and doing it once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pending = False
        self._failed = False

    def arm(self, made_up: bool, failed: bool) -> None:
        """After a placement: whether it compared candidates on made-up inputs, and whether
        one failed on them."""
        self.pending = made_up
        self._failed = failed

    def place_once(
        self,
        inputs: Sequence[ir.Value],
        overrides: Mapping[str, int],
        feeds: Mapping[str, Any],
        defaults: Mapping[str, np.ndarray],
        place: Callable[[dict[str, np.ndarray]], None],
    ) -> None:
        """Call `place` with the first run's timing inputs, once, if they differ from those
        creation timed with (or creation's failed)."""
        with self._lock:  # other first runs wait here and then run on the new placement
            if not self.pending:
                return
            try:
                timing = _timing_inputs(inputs, feeds, defaults)
                if timing is None:
                    return
                if not self._failed and _same_shapes(inputs, overrides, timing):
                    return
                place(timing)
            finally:
                self.pending = False


def _timing_inputs(
    inputs: Sequence[ir.Value], feeds: Mapping[str, Any], defaults: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray] | None:
    """Every graph input as a numpy array (the feed, else its default), or None when one is
    not an array (a map, a sequence) or missing."""
    timing = {}
    for value in inputs:
        name = name_of(value) or ""
        array = feeds.get(name, defaults.get(name))
        if not isinstance(array, np.ndarray):
            return None
        timing[name] = array
    return timing


def _same_shapes(
    inputs: Sequence[ir.Value], overrides: Mapping[str, int], timing: Mapping[str, np.ndarray]
) -> bool:
    made_up, why, _ = timing_shapes(inputs, overrides)
    if why:
        return False
    return all(made_up[name][0] == np.shape(array) for name, array in timing.items())
