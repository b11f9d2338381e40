"""level_series and integrate: hand-computed rows, exact agreement with the summary, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from pmtwin.results import LevelSeries, compute_summary, integrate, level_series
from tests.results.builders import Run, make_run, random_runs, tiny_run


def series_of(run: Run) -> LevelSeries:
    return level_series(run.jobs, run.schedule, pool_names=run.pool_names, pool_capacity=run.pool_capacity)


def rows(series: LevelSeries, name: str) -> list[tuple[float, float]]:
    time_s, value = series.get(name)
    return list(zip(time_s.tolist(), value.tolist(), strict=True))


def test_tiny_run_rows() -> None:
    series = series_of(tiny_run())
    # at t=60 job 2 ends and job 3 starts, at t=100 job 1 ends and job 4 starts: levels unchanged.
    assert rows(series, "utilization:cpu") == [(0, 0.5), (10, 1.0), (65, 0.5), (100, 1.0), (200, 0.0)]
    assert rows(series, "utilization") == [(0, 2 / 12), (10, 4 / 12), (65, 2 / 12), (100, 4 / 12), (200, 0)]
    assert rows(series, "queue_jobs") == [(0, 0), (20, 1), (30, 2), (60, 1), (100, 0)]
    assert rows(series, "running_jobs") == [(0, 1), (10, 2), (65, 1), (200, 0)]
    # an empty pool is idle from the first submit on.
    assert rows(series, "utilization:gpu") == [(0, 0)]
    assert rows(series, "queue_jobs:gpu") == [(0, 0)]


def test_tiny_run_integral_matches_summary() -> None:
    run = tiny_run()
    time_s, value = series_of(run).get("utilization:cpu")
    assert integrate(time_s, value, 0.0, 200.0) == pytest.approx(177.5)
    summary = compute_summary(
        run.jobs, run.schedule, pool_names=run.pool_names, pool_capacity=run.pool_capacity, skipped={}
    )
    cpu_utilization = summary["pools"]["cpu"]["utilization"]
    assert integrate(time_s, value, 0.0, 200.0) / 200.0 == pytest.approx(cpu_utilization)


def test_series_names() -> None:
    assert series_of(tiny_run()).names == (
        "utilization",
        "queue_jobs",
        "running_jobs",
        "utilization:cpu",
        "queue_jobs:cpu",
        "running_jobs:cpu",
        "utilization:gpu",
        "queue_jobs:gpu",
        "running_jobs:gpu",
    )
    single = make_run([0.0], [1.0], [2.0], [1])
    assert series_of(single).names == ("utilization", "queue_jobs", "running_jobs")


def test_no_jobs_no_rows() -> None:
    series = series_of(make_run([], [], [], []))
    assert len(series) == 0
    assert series.get("utilization")[0].size == 0


def test_first_row_for_a_late_pool() -> None:
    run = make_run(
        [0.0, 50.0],
        [0.0, 60.0],
        [10.0, 70.0],
        [1, 2],
        pool=[0, 1],
        pool_names=("a", "b"),
        pool_capacity=(1, 2),
    )
    series = series_of(run)
    assert rows(series, "utilization:b") == [(0, 0), (60, 1), (70, 0)]
    assert rows(series, "queue_jobs:b") == [(0, 0), (50, 1), (60, 0)]
    assert rows(series, "running_jobs") == [(0, 1), (10, 0), (60, 1), (70, 0)]


def test_to_table_schema() -> None:
    import pyarrow as pa

    series = series_of(tiny_run())
    table = series.to_table()
    assert table.schema.field("series").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("time_s").type == pa.float64()
    assert table.schema.field("value").type == pa.float64()
    assert table.num_rows == len(series)
    names = table.column("series").to_pylist()
    assert names[: len(rows(series, "utilization"))] == ["utilization"] * len(rows(series, "utilization"))


def test_integrate_partial_and_beyond_last_row() -> None:
    time_s = np.array([0.0, 10.0, 20.0])
    value = np.array([1.0, 3.0, 2.0])
    assert integrate(time_s, value, 0.0, 10.0) == 10.0
    assert integrate(time_s, value, 5.0, 15.0) == 5.0 + 15.0
    assert integrate(time_s, value, 12.0, 12.0) == 0.0
    assert integrate(time_s, value, 15.0, 30.0) == 15.0 + 20.0  # the last level holds on
    assert integrate(time_s, value, 25.0, 30.0) == 10.0
    with pytest.raises(ValueError):
        integrate(time_s, value, -1.0, 5.0)
    with pytest.raises(ValueError):
        integrate(time_s, value, 5.0, 4.0)


def level_at(run: Run, t: float, pool: int | None) -> tuple[int, int, int]:
    """Brute force: (busy units, queued jobs, running jobs) right after every change at time t."""
    mine = np.ones(len(run.jobs), bool) if pool is None else run.schedule.pool == pool
    submitted = mine & (run.jobs.submit_s <= t)
    started = mine & (run.schedule.start_s <= t)
    running = started & (run.schedule.end_s > t)
    return int(run.jobs.size[running].sum()), int(submitted.sum() - started.sum()), int(running.sum())


@settings(max_examples=200, deadline=None)
@given(random_runs())
def test_series_invariants(run: Run) -> None:
    series = series_of(run)
    first_s = float(run.jobs.submit_s.min())
    for name in series.names:
        time_s, value = series.get(name)
        assert time_s[0] == first_s
        assert np.all(np.diff(time_s) > 0), name
        assert np.all(value[1:] != value[:-1]), name
        assert value[-1] == 0.0, name
        assert np.all(value >= 0.0), name
    pools = [None] + (list(range(len(run.pool_names))) if len(run.pool_names) > 1 else [])
    for pool in pools:
        suffix = "" if pool is None else f":{run.pool_names[pool]}"
        capacity = run.pool_capacity.sum() if pool is None else run.pool_capacity[pool]
        for k, name in enumerate(("utilization", "queue_jobs", "running_jobs")):
            time_s, value = series.get(name + suffix)
            expected = [level_at(run, t, pool)[k] for t in time_s]
            scale = capacity if k == 0 else 1
            assert np.allclose(value * scale, expected), name + suffix


@settings(max_examples=200, deadline=None)
@given(random_runs())
def test_time_average_of_utilization_is_summary_utilization(run: Run) -> None:
    series = series_of(run)
    summary = compute_summary(
        run.jobs, run.schedule, pool_names=run.pool_names, pool_capacity=run.pool_capacity, skipped={}
    )
    blocks = [("utilization", summary)]
    if len(run.pool_names) > 1:
        blocks += [(f"utilization:{name}", summary["pools"][name]) for name in run.pool_names]
    for name, block in blocks:
        if block["jobs"] == 0 or block["makespan_s"] == 0:
            continue
        time_s, value = series.get(name)
        average = integrate(time_s, value, block["first_submit_s"], block["last_end_s"]) / block["makespan_s"]
        assert average == pytest.approx(block["utilization"], rel=1e-12, abs=1e-15), name


def test_rows_read_back_into_series_in_any_row_order() -> None:
    written = LevelSeries.from_parts(
        ["a", "empty", "b"], [np.array([0.0, 5.0]), np.empty(0), np.array([1.0, 2.0, 3.0])],
        [np.array([1.0, 2.0]), np.empty(0), np.array([7.0, 8.0, 9.0])],
    )  # fmt: skip
    table = written.to_table()
    codes = table.column("series").combine_chunks().indices.to_numpy()
    back = LevelSeries.from_rows(codes, written.names, written.time_s, written.value)
    assert back.names == written.names and np.array_equal(back.offsets, written.offsets)
    shuffled = np.array([2, 0, 3, 1, 4])  # rows interleaved: b, a, b, a, b
    mixed = LevelSeries.from_rows(
        codes[shuffled], written.names, written.time_s[shuffled], written.value[shuffled]
    )
    assert [(name, t.tolist(), v.tolist()) for name, t, v in mixed.parts()] == [
        ("a", [0.0, 5.0], [1.0, 2.0]), ("empty", [], []), ("b", [1.0, 2.0, 3.0], [7.0, 8.0, 9.0]),
    ]  # fmt: skip
