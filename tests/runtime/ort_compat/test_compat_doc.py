"""docs/onnxruntime-compat.md lists every public name of ORT's Python API with its status, and
the statuses are true: a name said to work or differ exists on xinrt's object, a refused one
raises the ORT class named, an absent one does not exist. A newer onnxruntime with new names
fails here until the page lists them."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import helper

import xinrt
from tests.helpers import make_model, tensor
from xinrt.capi import onnxruntime_pybind11_state as xstate
from xinrt.ort_compat.module import namespace

ort = pytest.importorskip("onnxruntime")

DOC = Path(__file__).resolve().parents[3] / "docs" / "onnxruntime-compat.md"
_ROW = re.compile(r"^\| `([^`]+)` \| (works|differs|absent|refused: `(\w+)`) \|")
_SECTIONS = {
    "onnxruntime (module)": ort,
    "SessionOptions": ort.SessionOptions,
    "InferenceSession": ort.InferenceSession,
    "OrtValue": ort.OrtValue,
    "RunOptions": ort.RunOptions,
    "IOBinding": ort.IOBinding,
}


def _table() -> dict[str, dict[str, tuple[str, str | None]]]:
    """section -> name -> (status, refused class), from the page's "Every name" part."""
    text = DOC.read_text(encoding="utf-8").split("## Every name of ORT's Python API", 1)[1]
    tables: dict[str, dict[str, tuple[str, str | None]]] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("### "):
            section = line[4:].strip()
            tables[section] = {}
        elif (match := _ROW.match(line)) and section:
            tables[section][match.group(1)] = (match.group(2).split(":")[0], match.group(3))
    return tables


def _public(owner: Any) -> list[str]:
    if owner is ort:  # what `import onnxruntime` gives: submodules other tests import come later
        owner = _fresh_module_names()
    return [name for name in dir(owner) if not name.startswith("_")]


def _fresh_module_names() -> Any:
    listing = subprocess.run(
        [sys.executable, "-c", "import onnxruntime; print(' '.join(dir(onnxruntime)))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    return type("FreshOnnxruntime", (), dict.fromkeys(listing))


def test_every_public_name_of_onnxruntime_is_listed():
    tables = _table()
    assert set(tables) == set(_SECTIONS)
    for section, owner in _SECTIONS.items():
        missing = [name for name in _public(owner) if name not in tables[section]]
        assert not missing, f"{section}: add these names to {DOC.name}: {missing}"


def _instances() -> dict[str, Any]:
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
    session = xinrt.InferenceSession(make_model(nodes, [tensor("x", [2])], [tensor("y", [2])]))
    return {
        "onnxruntime (module)": namespace(),
        "SessionOptions": xinrt.SessionOptions(),
        "InferenceSession": session,
        "OrtValue": xinrt.OrtValue.ortvalue_from_numpy(np.zeros(2, np.float32)),
        "RunOptions": xinrt.RunOptions(),
        "IOBinding": session.io_binding(),
    }


def _lookup(owner: Any, name: str) -> tuple[bool, Any]:
    if isinstance(owner, dict):
        return name in owner, owner.get(name)
    try:
        return True, getattr(owner, name)
    except AttributeError:
        return False, None


def _is_stand_in(member: Any) -> bool:
    """xinrt's refusing stand-ins: a class of ORT's C module it lacks, or a refused method."""
    if isinstance(member, type) and type(member).__name__ == "_UnsupportedMeta":
        return True
    return "refused (NotImplemented)" in (getattr(member, "__doc__", "") or "")


def _call_with_placeholders(member: Any) -> None:
    try:
        required = [
            p for p in inspect.signature(member).parameters.values()
            if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]  # fmt: skip
    except (TypeError, ValueError):
        required = []
    member(*[None] * len(required))


def test_every_listed_status_is_true_of_xinrt():
    instances = _instances()
    for section, rows in _table().items():
        for name, (status, refused_with) in rows.items():
            present, member = _lookup(instances[section], name)
            where = f"{section}.{name} ({status})"
            if status == "absent":
                assert not present, where
                continue
            assert present, where
            assert (status == "refused") or not _is_stand_in(member), where
            if status == "refused":
                with pytest.raises(getattr(xstate, str(refused_with))):
                    _call_with_placeholders(member)
