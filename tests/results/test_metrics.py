"""compute_summary: hand-computed numbers, bounded slowdown edges, empty groups, JSON safety."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from pmtwin.results import compute_summary
from tests.results.builders import Run, make_run, random_runs, tiny_run


def summarize(run: Run, skipped: dict[str, int] | None = None) -> dict[str, Any]:
    return compute_summary(
        run.jobs,
        run.schedule,
        pool_names=run.pool_names,
        pool_capacity=run.pool_capacity,
        skipped=skipped or {},
    )


def test_tiny_run_overall() -> None:
    s = summarize(tiny_run(), {"size<=0": 1, "run<=0": 2})
    assert s["jobs"] == 4
    assert s["skipped"] == {"total": 3, "by_reason": {"run<=0": 2, "size<=0": 1}}
    # waits 0, 0, 40, 70; linear percentiles: median between 0 and 40, p95 at rank 2.85.
    assert s["wait_s"] == {"mean": 27.5, "median": 20.0, "p95": pytest.approx(65.5), "max": 70.0}
    assert s["response_s"] == {"mean": 91.25}
    # bounded slowdowns 1, 1, 4.5, 1.7 -> sorted 1, 1, 1.7, 4.5.
    assert s["bounded_slowdown"] == pytest.approx({"mean": 2.05, "median": 1.35, "p95": 4.08, "max": 4.5})
    assert (s["first_submit_s"], s["last_end_s"], s["makespan_s"]) == (0.0, 200.0, 200.0)
    # busy unit-seconds 2*100 + 2*50 + 2*5 + 4*100 = 710 on 4 + 8 units over 200 s.
    assert s["capacity"] == 12
    assert s["utilization"] == pytest.approx(710 / 2400)
    assert s["percentile_method"] == "linear"
    assert s["bounded_slowdown_min_run_s"] == 10.0


def test_tiny_run_pools_and_partitions() -> None:
    s = summarize(tiny_run())
    cpu = s["pools"]["cpu"]
    assert cpu["jobs"] == 4
    assert cpu["capacity"] == 4
    assert cpu["utilization"] == pytest.approx(710 / 800)
    assert cpu["wait_s"] == s["wait_s"]
    assert s["pools"]["gpu"] == {
        "jobs": 0,
        "capacity": 8,
        "first_submit_s": None,
        "last_end_s": None,
        "makespan_s": None,
        "utilization": None,
        "wait_s": {"mean": None, "median": None, "p95": None, "max": None},
        "response_s": {"mean": None},
        "bounded_slowdown": {"mean": None, "median": None, "p95": None, "max": None},
    }
    debug = s["partitions"]["debug"]
    assert debug["jobs"] == 1
    assert debug["wait_s"] == {"mean": 40.0, "median": 40.0, "p95": 40.0, "max": 40.0}
    assert debug["bounded_slowdown"]["max"] == 4.5
    assert "utilization" not in debug
    assert s["partitions"]["regular"]["wait_s"]["max"] == 70.0


@pytest.mark.parametrize(
    ("wait_s", "run_s", "expected"),
    [
        (0.0, 0.0, 1.0),  # zero run, zero wait: the floor of 1
        (5.0, 0.0, 1.0),  # 5 / 10 < 1
        (30.0, 0.0, 3.0),  # run counts as 10 s
        (95.0, 5.0, 10.0),  # 100 / 10
        (0.0, 9.0, 1.0),
        (10.0, 10.0, 2.0),  # at the threshold run is used as is
        (100.0, 50.0, 3.0),
    ],
)
def test_bounded_slowdown_short_runs(wait_s: float, run_s: float, expected: float) -> None:
    run = make_run([100.0], [100.0 + wait_s], [100.0 + wait_s + run_s], [1])
    s = summarize(run)
    assert s["bounded_slowdown"]["max"] == pytest.approx(expected)
    assert s["bounded_slowdown"]["mean"] == pytest.approx(expected)


def test_no_jobs_gives_nulls() -> None:
    s = summarize(make_run([], [], [], []), {"run<=0": 5})
    assert s["jobs"] == 0
    assert s["utilization"] is None
    assert s["makespan_s"] is None
    assert s["wait_s"]["p95"] is None
    assert s["pools"]["all"]["jobs"] == 0
    json.dumps(s, allow_nan=False)


def test_zero_makespan_has_no_utilization() -> None:
    s = summarize(make_run([5.0], [5.0], [5.0], [1]))
    assert s["makespan_s"] == 0.0
    assert s["utilization"] is None


@pytest.mark.parametrize(
    ("start_s", "end_s", "pool"),
    [([4.0], [9.0], [0]), ([6.0], [5.0], [0]), ([6.0], [9.0], [1]), ([math.nan], [9.0], [0])],
)
def test_inconsistent_schedule_is_rejected(start_s: list[float], end_s: list[float], pool: list[int]) -> None:
    with pytest.raises(ValueError):
        summarize(make_run([5.0], start_s, end_s, [1], pool=pool))


def test_pool_arguments_must_agree() -> None:
    run = tiny_run()
    with pytest.raises(ValueError):
        compute_summary(
            run.jobs, run.schedule, pool_names=["cpu"], pool_capacity=run.pool_capacity, skipped={}
        )


@settings(max_examples=200, deadline=None)
@given(random_runs())
def test_summary_is_json_without_nan(run: Run) -> None:
    s = summarize(run, {"run<=0": 1})
    text = json.dumps(s, allow_nan=False)
    assert json.loads(text) == s

    def finite(value: Any) -> bool:
        if isinstance(value, dict):
            return all(finite(v) for v in value.values())
        return not isinstance(value, float) or math.isfinite(value)

    assert finite(s)
    assert sum(block["jobs"] for block in s["pools"].values()) == s["jobs"]
    waits = run.schedule.start_s - run.jobs.submit_s
    assert s["wait_s"]["max"] == waits.max()
    assert s["wait_s"]["median"] == pytest.approx(float(np.median(waits)))


def test_unknown_partition_code_is_rejected() -> None:
    with pytest.raises(ValueError):
        summarize(make_run([5.0], [6.0], [9.0], [1], partition=[2], partition_names=("a", "b")))
