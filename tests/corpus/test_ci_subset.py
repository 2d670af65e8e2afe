"""The corpus CI subset: every PyPI-shipped model and ten small exported ones load and match
raw ONNX Runtime through `ort` alone and through the default chain.

Installs what it needs (torch, transformers, onnxscript) into the running environment; skips
only when the package index cannot be reached. Built models are kept in the user's corpus
folder (as `xinrt corpus build` does), so later runs only check.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from xinrt.corpus import find_entries
from xinrt.corpus.build import build_models
from xinrt.corpus.check import check_model
from xinrt.corpus.entry import corpus_dir

pytestmark = pytest.mark.corpus

CORPUS = corpus_dir()  # read before the autouse fixture points the cache at a temp folder
CONFIGS = ["ort", "default"]
# The CPU build of torch that the CI machines carry; any torch >= 2.4 works.
NEEDS = {"torch": "torch==2.13.0", "transformers": "transformers", "onnxscript": "onnxscript"}
EXPECTED = Path(__file__).with_name("expected_failures.txt")


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def corpus_tools() -> None:
    """torch, transformers and onnxscript in this environment, installed if missing."""
    missing = [spec for module, spec in NEEDS.items() if importlib.util.find_spec(module) is None]
    if not missing:
        return
    done = _pip("install", "-q", "--disable-pip-version-check", *missing)
    if done.returncode != 0:
        with tempfile.TemporaryDirectory() as folder:
            probe = _pip("download", "-q", "--no-deps", "--no-cache-dir", "pip", "-d", folder)
        if probe.returncode != 0:
            pytest.skip(f"the package index is unreachable: {probe.stderr.strip()[-200:]}")
        pytest.fail(f"pip install {' '.join(missing)} failed: {done.stderr.strip()[-500:]}")
    importlib.invalidate_caches()


def expected_failures() -> dict[tuple[str, str], str]:
    """(model, configuration) -> reason, from expected_failures.txt."""
    found = {}
    for line in EXPECTED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            model, config, reason = line.split(maxsplit=2)
            found[(model, config)] = reason
    return found


def test_ci_subset_loads_and_matches_ort(corpus_tools, monkeypatch):
    monkeypatch.setenv("XINRT_CORPUS_DIR", str(CORPUS))
    models = find_entries(ci=True)
    built = build_models(models, progress=False)
    not_built = [
        f"{r['name']}: {r['status']} {r['reason']}"
        for r in built
        if r["status"] not in ("built", "cached")
    ]
    # in this process: a child per model (as `xinrt corpus check` runs them) costs an interpreter
    # start each, and a crash fails this test just as well
    document = {"models": [check_model(entry, CONFIGS, threads=[]) for entry in models]}
    expected = expected_failures()
    unexpected, fixed = [], []
    for model in document["models"]:
        for config in CONFIGS:
            record = model.get("configs", {}).get(config, {})
            ok = record.get("status") == "ok"
            key = (model["name"], config)
            if not ok and key not in expected:
                detail = record.get("error") or (record.get("compare") or {}).get("reason")
                unexpected.append(
                    f"{model['name']} [{config}]: {record.get('status') or model.get('status')} "
                    f"{detail or model.get('error', '')}"
                )
            if ok and key in expected:
                fixed.append(f"{model['name']} {config}")
    assert not not_built, "models not built: " + "; ".join(not_built)
    assert not unexpected, "fail against ORT:\n" + "\n".join(unexpected)
    assert not fixed, "now pass, remove from expected_failures.txt: " + ", ".join(fixed)
    assert os.path.isdir(CORPUS)
