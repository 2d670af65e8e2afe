"""Out-of-process SDK workers: each vendor SDK in its own venv, spoken to over a pipe.

`client.Worker` (xinrt's side), `server.py` + `protocol.py` + `sdk_tools.py` (the worker's side,
run by the SDK venv's Python), `envs` (the venvs, `xinrt backend install|doctor`),
`scratch` (private folders for shared-memory files and worker logs), `backend.WorkerBackend`
(what every worker-backed backend shares) and `executable` (what it compiles to).
"""

from __future__ import annotations

from .client import (
    Worker,
    WorkerCallError,
    WorkerCrashed,
    WorkerError,
    WorkerProtocolError,
    WorkerRestarted,
    WorkerTimeout,
)
from .envs import EnvSpec, env_dir, env_installed, env_python

__all__ = [
    "EnvSpec",
    "Worker",
    "WorkerCallError",
    "WorkerCrashed",
    "WorkerError",
    "WorkerProtocolError",
    "WorkerRestarted",
    "WorkerTimeout",
    "env_dir",
    "env_installed",
    "env_python",
]
