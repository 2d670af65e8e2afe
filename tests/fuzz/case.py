"""One fuzz case, run in-process: load the mutated model on the default chain and on `cpu`
alone, run it on seeded random feeds. Any XinrtError is a correct answer; another exception is
a "raw" finding; a process death or hang is what the parent (`run.py`) catches.

As a child of run.py: `python -m tests.fuzz.case SEEDS...` (each "N", or "A:B" for A..B-1) runs
those seeds, writing "start SEED" before and "done SEED OUTCOME [DETAIL]" after each on stdout.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import warnings
from typing import Any

import numpy as np

import xinrt
from tests.fuzz.mutate import mutate_case

CHAINS: list[list[str] | None] = [None, ["cpu"]]  # None: xinrt's default chain
RUN_TIMEOUT_S = 2.0  # RunOptions.timeout_s: a Loop of 10**12 trips must stop, not hang the case
_NP_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(uint8)": np.uint8,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int8)": np.int8,
}


def _feeds(session: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
    feeds: dict[str, np.ndarray] = {}
    for arg in session.get_inputs():
        dims = [
            d if isinstance(d, int) and 0 <= d <= 8 else int(rng.integers(1, 4))
            for d in (arg.shape or [])
        ]
        dtype = _NP_DTYPES.get(arg.type, np.float32)
        feeds[arg.name] = (rng.standard_normal(dims) * 3).astype(dtype)
    return feeds


_PRIORITY = xinrt.SessionOptions(placement="priority")


def run_case(seed: int) -> tuple[str, str]:
    """(outcome, detail): outcome is 'ok', 'error' (a XinrtError) or 'raw' (anything else).
    The default chain gets the bytes, `cpu` a file of them (a path is read another way)."""
    _, data = mutate_case(seed)
    outcome, detail = "ok", ""
    with tempfile.TemporaryDirectory(prefix="xinrt-fuzz-") as folder:
        path = os.path.join(folder, "case.onnx")
        with open(path, "wb") as handle:
            handle.write(data)
        sources: list[bytes | str] = [data, path]
        for chain, source in zip(CHAINS, sources):
            outcome, detail = _run_chain(seed, chain, source, outcome)
            if outcome == "raw":
                break
    return outcome, detail


def _run_chain(
    seed: int, chain: list[str] | None, source: bytes | str, outcome: str
) -> tuple[str, str]:
    stage = "load"
    try:
        # Priority placement: "fastest" would run each mutated model several times while
        # timing candidates, with no deadline on a whole-model run (a Loop of 10**9 trips).
        session = xinrt.InferenceSession(source, _PRIORITY, backends=chain)
        stage = "run"
        feeds = _feeds(session, np.random.default_rng(seed))
        session.run(None, feeds, xinrt.RunOptions(timeout_s=RUN_TIMEOUT_S))
    except xinrt.XinrtError:
        return ("error" if outcome == "ok" else outcome), ""
    except Exception as exc:  # noqa: BLE001 - the finding itself
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        return "raw", f"{chain or 'default'} {stage}: {type(exc).__name__}: {first}"
    return outcome, ""


def limit_memory() -> None:
    """Cap the child's address space (a model asking for 10**12 floats must fail with
    MemoryError, not push the machine into swap); skipped under AddressSanitizer."""
    limit = int(os.environ.get("XINRT_FUZZ_MEMORY_MB", "6144")) << 20
    if limit > 0 and "asan" not in os.environ.get("LD_PRELOAD", ""):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def parse_seeds(args: list[str]) -> list[int]:
    """ "N" and "A:B" (A..B-1) arguments as one list of seeds."""
    seeds: list[int] = []
    for arg in args:
        first, _, end = arg.partition(":")
        seeds.extend(range(int(first), int(end)) if end else [int(first)])
    return seeds


def main(argv: list[str]) -> int:
    warnings.simplefilter("ignore")
    limit_memory()
    out = sys.stdout
    for seed in parse_seeds(argv):
        out.write(f"start {seed}\n")
        out.flush()
        outcome, detail = run_case(seed)
        out.write(f"done {seed} {outcome} {detail}\n".rstrip() + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
