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
        "preferred_batch_sizes: [4, 2, 4]\n"
    )
    config = load_config(tmp_path)
    assert config == ModelConfig(
        backends=("cpu", "ort"),
        threads=2,
        max_batch_size=4,
        max_queue_delay_us=500,
        preferred_batch_sizes=(2, 4),
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
        ("preferred_batch_sizes: 4\n", "preferred_batch_sizes must be a list"),
        ("preferred_batch_sizes: [0, 2]\n", "preferred_batch_sizes must be a list"),
        ("replicas: []\n", "replicas is an empty list"),
        ("replicas: [3]\n", r"replicas\[0\]: expected a mapping"),
        ("replicas: [{count: -1}]\n", r"replicas\[0\]: count must be a whole number"),
        ("replicas: [{gpus: 1}]\n", r"replicas\[0\]: unknown keys gpus"),
        ("replicas: [{backends: [cpu]}, {backends: cpu}]\n", "the same backends"),
        ("replicas: [{resources: {npu: -1}}]\n", "resources must be a mapping"),
        ("num_cpus: many\n", "num_cpus must be a number"),
        ("autoscaling: {max: 3}\n", "unknown autoscaling keys max"),
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


def test_replicas_may_list_kinds_with_their_backends_and_ray_resources(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "replicas:\n"
        '  - {backends: ["rknn:rk3588"], resources: {npu_rk3588: 1}, count: 1, num_cpus: 0}\n'
        "  - {backends: [cpu], count: 2, autoscaling: {min_replicas: 2, max_replicas: 4}}\n"
    )
    config = load_config(tmp_path)
    npu, cpu = config.replica_groups()
    assert config.replicas == 3
    assert (npu.kind, npu.resources, npu.count, npu.thread_count()) == (
        "rknn:rk3588",
        {"npu_rk3588": 1},
        1,
        1,
    )
    assert (cpu.kind, cpu.num_cpus, cpu.replica_estimate()) == ("cpu", 1.0, 2)
    assert cpu.autoscaling == {"min_replicas": 2, "max_replicas": 4}


def test_flat_keys_make_one_replica_kind() -> None:
    config = parse_config(
        {"backends": ["ort"], "replicas": 2, "num_cpus": 2, "resources": {"gpu": 1}}, "cli"
    )
    (group,) = config.replica_groups()
    assert (group.backends, group.count, group.num_cpus, group.thread_count()) == (
        ("ort",),
        2,
        2,
        2,
    )
    assert group.resources == {"gpu": 1} and group.max_ongoing_requests == 64


def test_one_process_runs_every_kinds_sessions(serve_deps: None, tmp_path: Path) -> None:
    from xinrt.serve.config import parse_config as parse
    from xinrt.serve.runner import VersionRunner

    onnx.save(mlp(1), str(tmp_path / "model.onnx"))
    config = parse({"replicas": [{"backends": ["cpu"]}, {"backends": ["ort"], "count": 2}]}, "t")
    runner = VersionRunner("m", "1", tmp_path / "model.onnx", config)
    assert len(runner.sessions) == 3 and runner.backend == "cpu+ort"
    assert runner.triton_config()["instance_group"] == [{"count": 3, "kind": "KIND_CPU"}]
