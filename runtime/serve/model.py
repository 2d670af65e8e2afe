"""A served model as KServe sees it: one `kserve.Model` over the model's loaded versions."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
from kserve import Model
from kserve.errors import InferenceError, InvalidInput, ModelNotFound
from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse

from ..errors import InvalidInputError
from .runner import VersionRunner
from .tensors import tensor_metadata, to_array


class VersionNotFound(ModelNotFound):
    """A model that exists, asked for a version that is not loaded (HTTP 404)."""

    def __init__(self, model: str, version: str, loaded: list[str]) -> None:
        super().__init__(model)
        self.reason = (
            f"model {model!r} has no loaded version {version!r}; loaded: {', '.join(loaded)}"
        )


class XinrtModel(Model):
    """Runs requests on xinrt sessions; unknown versions, bad tensors and failures become the
    protocol's errors (404, 400, 500) and the model stays usable."""

    def __init__(self, name: str, runners: dict[str, VersionRunner]) -> None:
        super().__init__(name)
        self.runners = runners
        self.latest = max(runners, key=version_key)

    def runner(self, version: str | None) -> VersionRunner:
        """The runner of `version` (the latest for None or "")."""
        if not version:
            return self.runners[self.latest]
        if version not in self.runners:
            raise VersionNotFound(self.name, version, sorted(self.runners, key=version_key))
        return self.runners[version]

    def start(self) -> None:
        """Open every version's batcher (in the serving event loop) and mark the model ready."""
        for runner in self.runners.values():
            if runner.batcher is None:
                runner.start()
        self.ready = True

    async def stop_async(self) -> None:
        """Refuse new requests, finish the queued ones, release the sessions' threads."""
        self.ready = False
        for runner in self.runners.values():
            await runner.stop()

    def stop(self) -> None:
        self.ready = False  # KServe's unload; the repository awaits stop_async() after it

    def load(self) -> bool:
        """KServe calls this for a model that is not ready: xinrt models load in the
        repository (off the event loop), so this only reports the state."""
        return self.ready

    def get_input_types(self) -> list[dict[str, Any]]:
        return tensor_metadata(self.runners[self.latest].inputs)

    def get_output_types(self) -> list[dict[str, Any]]:
        return tensor_metadata(self.runners[self.latest].outputs)

    async def predict(
        self,
        payload: InferRequest,
        headers: dict[str, str] | None = None,
        response_headers: dict[str, str] | None = None,
    ) -> InferResponse:
        runner, outputs, wanted = await self.infer_arrays(payload)
        return self.response(payload, runner, outputs, wanted)

    def response(
        self,
        payload: InferRequest,
        runner: VersionRunner,
        outputs: dict[str, np.ndarray],
        wanted: list[tuple[str, str]],
    ) -> InferResponse:
        """KServe's response object for the outputs of infer_arrays()."""
        infer_outputs = []
        for name, datatype in wanted:
            output = InferOutput(name=name, shape=list(outputs[name].shape), datatype=datatype)
            # raw bytes: what gRPC sends, and what KServe turns into JSON when REST asks for it
            output.set_data_from_numpy(np.ascontiguousarray(outputs[name]), binary_data=True)
            infer_outputs.append(output)
        return InferResponse(
            response_id=payload.id or str(uuid.uuid4()),
            model_name=self.name,
            model_version=runner.version,
            infer_outputs=infer_outputs,
            use_binary_outputs=payload.use_binary_outputs,
            requested_outputs=payload.request_outputs,
        )

    async def infer_arrays(
        self, payload: InferRequest
    ) -> tuple[VersionRunner, dict[str, np.ndarray], list[tuple[str, str]]]:
        """Run one request: its runner, its outputs, and the (name, datatype) of each output
        it asked for (all of them when it named none). The REST front door encodes these
        itself; predict() wraps them in KServe's response for gRPC."""
        runner = self.runner(payload.model_version)
        metrics = runner.metrics
        metrics.requests.inc()
        try:
            feeds, wanted = _decode(payload, runner)
        except InvalidInput:
            metrics.failed("invalid")
            raise
        if runner.batcher is None:
            raise InferenceError(f"{runner.label} is not started")
        try:
            outputs = await runner.batcher.submit(feeds)
        except InvalidInputError as exc:
            metrics.failed("invalid")
            raise InvalidInput(str(exc)) from exc
        except Exception as exc:
            metrics.failed("execution")
            raise InferenceError(f"{runner.label} failed: {type(exc).__name__}: {exc}") from exc
        return runner, outputs, wanted


def _decode(payload: InferRequest, runner: VersionRunner) -> tuple[dict, list[tuple[str, str]]]:
    """Feeds checked against the model, and the (name, datatype) of each output to return."""
    declared = {a.name: a for a in runner.inputs}
    given = {t.name for t in payload.inputs}
    unknown = sorted(given - set(declared))
    if unknown:
        raise InvalidInput(
            f"{runner.label} has no input {', '.join(map(repr, unknown))}; "
            f"inputs: {', '.join(declared)}"
        )
    missing = [n for n in declared if n not in given]
    if missing:
        raise InvalidInput(f"{runner.label}: missing inputs: {', '.join(missing)}")
    feeds = {t.name: to_array(t, declared[t.name], runner.label) for t in payload.inputs}
    rows = {a.shape[0] if a.ndim else -1 for a in feeds.values()}
    if runner.max_batch > 1 and len(rows) > 1:
        raise InvalidInput(f"{runner.label}: inputs disagree on the batch dim 0: {sorted(rows)}")
    types = {o.name: tensor_metadata([o])[0]["datatype"] for o in runner.outputs}
    names = [o.name for o in payload.request_outputs or []] or list(types)
    unknown = [n for n in names if n not in types]
    if unknown:
        raise InvalidInput(
            f"{runner.label} has no output {', '.join(map(repr, unknown))}; "
            f"outputs: {', '.join(types)}"
        )
    return feeds, [(n, types[n]) for n in names]


def version_key(version: str) -> tuple[int, str]:
    """Sort key of version names: numbers by value, anything else before them."""
    return (int(version), "") if version.isdigit() else (-1, version)
