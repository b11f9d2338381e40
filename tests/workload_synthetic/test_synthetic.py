"""The default synthetic workload: determinism, volume, offered load, invariants, validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.workload.jobs import COLUMN_DTYPES, JobTable
from pmtwin.workload.synthetic import (
    DEFAULT_MIX,
    GPUS_PER_GPU_NODE,
    DefaultMix,
    default_workload,
    mean_node_s_per_job,
)

PERLMUTTER = {"gpu": 1792, "cpu": 3072}
HBM80G_NODES = 256
YEAR_DAYS = 365.0
LOAD_TOLERANCE = 0.05
"""Offered load per partition over a year is within 0.05 of 0.85 (seed-to-seed spread about 0.015)."""


@pytest.fixture(scope="module")
def year() -> JobTable:
    return default_workload(days=YEAR_DAYS, seed=2024, partition_nodes=PERLMUTTER, hbm80g_nodes=HBM80G_NODES)


def offered_load(jobs: JobTable, code: int, nodes: int, days: float) -> float:
    rows = jobs.partition == code
    return float(np.sum(jobs.work_s[rows] * jobs.size[rows]) / (nodes * days * 86400.0))


def assert_invariants(
    jobs: JobTable, partition_nodes: dict[str, int], hbm80g_nodes: int, days: float, mix: DefaultMix
) -> None:
    n = len(jobs)
    assert jobs.partition_names == ("gpu", "cpu")
    assert jobs.constraint_names == ("", "hbm80g")
    for name, dtype in COLUMN_DTYPES.items():
        assert getattr(jobs, name).dtype == dtype
        assert len(getattr(jobs, name)) == n
    np.testing.assert_array_equal(jobs.job_id, np.arange(1, n + 1))
    np.testing.assert_array_equal(jobs.canonical_order(), np.arange(n))
    assert np.all(np.diff(jobs.submit_s) >= 0)
    assert np.all((jobs.submit_s >= 0) & (jobs.submit_s < days * 86400.0))
    assert np.all(jobs.submit_s == np.floor(jobs.submit_s))
    assert np.all((jobs.work_s >= 1.0) & (jobs.work_s <= jobs.requested_s))
    assert np.all(jobs.requested_s <= 48 * 3600.0)
    assert set(np.unique(jobs.requested_s)) <= set(mix.debug_limits_s) | set(mix.regular_limits_s)
    assert np.all(jobs.size >= 1)
    assert np.all(jobs.size & (jobs.size - 1) == 0), "sizes are powers of two"
    gpu, cpu = jobs.partition == 0, jobs.partition == 1
    assert np.all(gpu | cpu)
    assert np.all(jobs.size[gpu] <= partition_nodes["gpu"])
    assert np.all(jobs.size[cpu] <= partition_nodes["cpu"])
    debug_only = jobs.requested_s < min(mix.regular_limits_s)
    assert np.all(jobs.size[debug_only] <= mix.debug_max_nodes)
    hbm = jobs.constraint == 1
    assert np.all((jobs.constraint == 0) | hbm)
    assert not np.any(hbm & cpu)
    assert np.all(jobs.size[hbm] <= hbm80g_nodes)
    if hbm80g_nodes == 0:
        assert not np.any(hbm)
    np.testing.assert_array_equal(jobs.gpus[gpu], GPUS_PER_GPU_NODE * jobs.size[gpu])
    assert np.all(jobs.gpus[cpu] == 0)
    assert np.all((jobs.user >= 1) & (jobs.user <= mix.users))
    assert np.all(jobs.group == -1)


def test_same_arguments_give_identical_bytes() -> None:
    args = {"days": 7.0, "seed": 11, "partition_nodes": PERLMUTTER, "hbm80g_nodes": HBM80G_NODES}
    first, second = default_workload(**args), default_workload(**args)  # type: ignore[arg-type]
    assert first.partition_names == second.partition_names
    assert first.constraint_names == second.constraint_names
    for name in COLUMN_DTYPES:
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes(), name


def test_different_seeds_differ() -> None:
    a = default_workload(days=2.0, seed=1, partition_nodes=PERLMUTTER)
    b = default_workload(days=2.0, seed=2, partition_nodes=PERLMUTTER)
    assert len(a) != len(b) or not np.array_equal(a.submit_s, b.submit_s)
    n = min(len(a), len(b))
    assert not np.array_equal(a.size[:n], b.size[:n])
    assert not np.array_equal(a.work_s[:n], b.work_s[:n])


def test_year_volume(year: JobTable) -> None:
    assert 950_000 <= len(year) <= 1_100_000
    expected = sum(
        DEFAULT_MIX.offered_load * nodes * YEAR_DAYS * 86400.0 / mean_node_s_per_job(DEFAULT_MIX, nodes, hbm)
        for nodes, hbm in ((PERLMUTTER["gpu"], HBM80G_NODES), (PERLMUTTER["cpu"], 0))
    )
    assert abs(len(year) - expected) < 0.01 * expected  # Poisson: the spread is about 0.1%


def test_year_offered_load(year: JobTable) -> None:
    for code, nodes in enumerate(PERLMUTTER.values()):
        load = offered_load(year, code, nodes, YEAR_DAYS)
        assert abs(load - DEFAULT_MIX.offered_load) < LOAD_TOLERANCE, (code, load)
    hbm = year.constraint == 1
    hbm_load = np.sum(year.work_s[hbm] * year.size[hbm]) / (HBM80G_NODES * YEAR_DAYS * 86400.0)
    assert 0.3 < hbm_load < 0.55, "hbm80g jobs leave room on the 80 GB nodes"


def test_year_invariants(year: JobTable) -> None:
    assert_invariants(year, PERLMUTTER, HBM80G_NODES, YEAR_DAYS, DEFAULT_MIX)


def test_year_shape(year: JobTable) -> None:
    """Mostly small jobs, a daily cycle peaking in the early afternoon, a Zipf-like user population."""
    assert np.mean(year.size <= 4) > 0.75
    assert year.size[year.partition == 0].max() == 1024
    assert year.size[year.partition == 1].max() == 2048
    hourly = np.bincount((year.submit_s % 86400.0 // 3600.0).astype(np.int64), minlength=24)
    assert int(np.argmax(hourly)) in (12, 13, 14, 15)
    assert hourly.max() / hourly.min() > 3.0
    gpu = year.partition == 0
    assert 0.08 < np.mean(year.constraint[gpu] == 1) < 0.12
    per_user = np.bincount(year.user)
    assert per_user[1] == per_user.max()
    assert 0.10 < per_user[1] / len(year) < 0.14
    accuracy = year.work_s / year.requested_s
    assert 0.17 < float(np.mean(accuracy)) < 0.21


def test_perlmutter_2021_has_no_hbm80g_jobs() -> None:
    jobs = default_workload(days=3.0, seed=5, partition_nodes={"gpu": 1536, "cpu": 3072})
    assert not np.any(jobs.constraint == 1)
    assert_invariants(jobs, {"gpu": 1536, "cpu": 3072}, 0, 3.0, DEFAULT_MIX)


@pytest.mark.parametrize("days", [0.5, 0.01, 1.75])
def test_fractional_days(days: float) -> None:
    jobs = default_workload(days=days, seed=3, partition_nodes=PERLMUTTER, hbm80g_nodes=HBM80G_NODES)
    assert_invariants(jobs, PERLMUTTER, HBM80G_NODES, days, DEFAULT_MIX)
    per_day = 1.03e6 / 365.0
    assert len(jobs) < 3 * per_day * days + 20


def test_partitions_draw_from_independent_streams() -> None:
    """The GPU jobs do not change when only the CPU partition changes."""
    a = default_workload(days=2.0, seed=9, partition_nodes={"gpu": 1792, "cpu": 3072})
    b = default_workload(days=2.0, seed=9, partition_nodes={"gpu": 1792, "cpu": 100})
    for name in ("submit_s", "work_s", "requested_s", "size", "user"):
        np.testing.assert_array_equal(getattr(a, name)[a.partition == 0], getattr(b, name)[b.partition == 0])


def test_mix_override() -> None:
    mix = dataclasses.replace(DEFAULT_MIX, offered_load=0.5, debug_share=1.0)
    jobs = default_workload(days=1.0, seed=4, partition_nodes=PERLMUTTER, mix=mix)
    assert_invariants(jobs, PERLMUTTER, 0, 1.0, mix)
    assert np.all(jobs.requested_s <= 1800.0)
    assert np.all(jobs.size <= 8)
    for code, nodes in enumerate(PERLMUTTER.values()):
        assert abs(offered_load(jobs, code, nodes, 1.0) - 0.5) < LOAD_TOLERANCE


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"days": 0.0}, "days"),
        ({"days": -1.0}, "days"),
        ({"days": float("nan")}, "days"),
        ({"days": float("inf")}, "days"),
        ({"seed": -1}, "seed"),
        ({"partition_nodes": {"gpu": 1792}}, "missing \\['cpu'\\]"),
        ({"partition_nodes": {"cpu": 3072}}, "missing \\['gpu'\\]"),
        ({"partition_nodes": {"gpu": 1792, "cpu": 3072, "login": 40}}, "unknown \\['login'\\]"),
        ({"partition_nodes": {"gpu": 0, "cpu": 3072}}, "partition_nodes\\['gpu'\\]"),
        ({"partition_nodes": {"gpu": 1792, "cpu": -5}}, "partition_nodes\\['cpu'\\]"),
        ({"partition_nodes": {"gpu": 1.5, "cpu": 3072}}, "positive integer"),
        ({"hbm80g_nodes": -1}, "hbm80g_nodes"),
        ({"hbm80g_nodes": 1793}, "hbm80g_nodes"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"days": 1.0, "seed": 0, "partition_nodes": PERLMUTTER, "hbm80g_nodes": 0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        default_workload(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("offered_load", 0.0),
        ("daily_amplitude", 1.0),
        ("debug_share", 1.5),
        ("hbm80g_share", -0.1),
        ("debug_max_nodes", 0),
        ("size_tail_exponent", 0.0),
        ("users", 0),
        ("regular_limit_weights", (1.0, 2.0)),
        ("debug_limits_s", (600.5, 1200.0, 1800.0)),
        ("debug_limit_weights", (0.0, 0.0, 0.0)),
        ("accuracy_probs", (0.0, 0.5, 0.9)),
        ("accuracy_values", (0.1, 0.05, 0.5)),
        ("accuracy_values", (0.0, 0.5, 1.5)),
        ("user_zipf_exponent", float("nan")),
    ],
)
def test_invalid_mix(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"DefaultMix.{field}"):
        dataclasses.replace(DEFAULT_MIX, **{field: value})  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    days=st.floats(min_value=0.001, max_value=2.0),
    seed=st.integers(min_value=0, max_value=2**63),
    gpu_nodes=st.integers(min_value=1, max_value=2048),
    cpu_nodes=st.integers(min_value=1, max_value=4096),
    hbm_fraction=st.floats(min_value=0.0, max_value=1.0),
)
def test_invariants_hold_for_any_machine(
    days: float, seed: int, gpu_nodes: int, cpu_nodes: int, hbm_fraction: float
) -> None:
    hbm80g_nodes = int(hbm_fraction * gpu_nodes)
    nodes = {"gpu": gpu_nodes, "cpu": cpu_nodes}
    jobs = default_workload(days=days, seed=seed, partition_nodes=nodes, hbm80g_nodes=hbm80g_nodes)
    assert_invariants(jobs, nodes, hbm80g_nodes, days, DEFAULT_MIX)
