"""The placement cost cache: which machine a cost belongs to, and how long one measured under
someone else's load is trusted."""

from __future__ import annotations

import pytest

from xinrt import cost_cache
from xinrt.cost_cache import LOADED_MAX_AGE_S, CostCache, environment_key, is_stale


def test_cost_keys_differ_by_host_cpu_model(monkeypatch):
    here = environment_key("cpu", ["host"], 2)
    monkeypatch.setattr(cost_cache, "host_cpu", lambda: "some other CPU")
    assert environment_key("cpu", ["host"], 2) != here


def test_host_cpu_names_something():
    assert cost_cache.host_cpu().strip()


@pytest.mark.parametrize(
    ("load", "age_s", "stale"),
    [
        (1.5, LOADED_MAX_AGE_S + 60, True),  # oversubscribed and old: time again
        (1.5, LOADED_MAX_AGE_S - 60, False),  # oversubscribed but recent
        (0.6, LOADED_MAX_AGE_S * 100, False),  # measured on a machine with CPU to spare
        (None, LOADED_MAX_AGE_S * 100, False),  # no load average on this OS
    ],
)
def test_only_costs_measured_under_load_go_stale(load, age_s, stale):
    record = {"seconds": 1e-3, "measured_s": 1_000_000.0, "load_per_cpu": load}
    assert is_stale(record, 1_000_000.0 + age_s) is stale


def test_entries_without_a_stamp_are_kept():
    assert not is_stale({"seconds": 1e-3}, 1e12)


def test_a_cost_put_under_load_is_gone_an_hour_later(monkeypatch, tmp_path):
    monkeypatch.setenv("XINRT_CACHE_DIR", str(tmp_path))
    clock = [5_000_000.0]
    monkeypatch.setattr(cost_cache.time, "time", lambda: clock[0])
    monkeypatch.setattr(cost_cache, "machine_load", lambda: 3.0)
    cache = CostCache()
    cache.put("model", "whole", "env", {"seconds": 0.5})
    assert cache.get("model", "whole", "env")["seconds"] == 0.5
    clock[0] += LOADED_MAX_AGE_S + 1
    assert cache.get("model", "whole", "env") is None
    monkeypatch.setattr(cost_cache, "machine_load", lambda: 0.25)
    cache.put("model", "whole", "env", {"seconds": 0.2})
    clock[0] += LOADED_MAX_AGE_S * 10
    assert cache.get("model", "whole", "env")["seconds"] == 0.2
