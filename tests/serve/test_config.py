"""config.yaml parsing and repository scanning: good settings load, bad ones are named."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from tests.serve.conftest import mlp
from xinrt.errors import InvalidArgumentError, ModelNotFoundError
from xinrt.serve.config import ModelConfig, load_config, parse_config


def test_settings_load_with_their_types(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "backends: [cpu, ort]\nthreads: 2\nmax_batch_size: 4\nmax_queue_delay_us: 500\n"
        "replicas: 3\nresources: {npu_rk3588: 1}\nversions: all\nprecision: fp16\n"
    )
    config = load_config(tmp_path)
    assert config == ModelConfig(
        backends=("cpu", "ort"),
        threads=2,
        max_batch_size=4,
        max_queue_delay_us=500,
        replicas=3,
        resources={"npu_rk3588": 1},
        versions="all",
        precision="fp16",
    )
    assert config.replica_count() == 3 and config.thread_count() == 2


def test_no_config_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path) == ModelConfig()


@pytest.mark.parametrize(
    "text, message",
    [
        ("threads: two\n", "threads must be a whole number"),
        ("replicas: -1\n", "replicas must be a whole number"),
        ("batch: 4\n", "unknown keys batch"),
        ("versions: newest\n", "versions must be 'latest' or 'all'"),
        ("backends: 3\n", "backends must be a list"),
        ("- a\n- b\n", "expected a mapping"),
        ("threads: [\n", "not valid YAML"),
    ],
)
def test_bad_settings_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(InvalidArgumentError, match=message) as info:
        load_config(tmp_path)
    assert "config.yaml" in str(info.value)


def test_backends_may_be_a_comma_list() -> None:
    assert parse_config({"backends": "cpu, ort"}, "cli").backends == ("cpu", "ort")


def test_repository_scan_finds_versions_and_refuses_empty_folders(
    serve_deps: None, tmp_path: Path
) -> None:
    from xinrt.serve.repository import scan

    for version in ("1", "10", "2"):
        (tmp_path / "m" / version).mkdir(parents=True)
        onnx.save(mlp(1), str(tmp_path / "m" / version / "model.onnx"))
    (tmp_path / "m" / "notes").mkdir()  # not a version: ignored
    found = scan(tmp_path)
    assert sorted(found["m"].versions) == ["1", "10", "2"]
    assert list(found["m"].to_load()) == ["10"]  # latest by number, not by text
    single = scan(tmp_path / "m" / "2" / "model.onnx")
    assert list(single) == ["model"] and list(single["model"].versions) == ["1"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidArgumentError, match="holds no model"):
        scan(empty)
    with pytest.raises(ModelNotFoundError):
        scan(tmp_path / "missing")


def test_demo_repository_holds_a_batchable_resnet50() -> None:
    from xinrt.serve.demo import demo_repository

    root = demo_repository()
    model = onnx.load(str(root / "resnet50" / "1" / "model.onnx"), load_external_data=False)
    dims = [
        v.type.tensor_type.shape.dim[0].dim_param
        for v in (*model.graph.input[:1], *model.graph.output)
    ]
    assert dims == ["N", "N"]
    assert demo_repository() == root  # built once, then reused
