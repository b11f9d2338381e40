"""Engine behaviour beyond single-pool start times: pools, node ids, rate changes, input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from pmtwin.sim.engine import Engine, EngineInputError, run_schedule, schedule_single_pool
from pmtwin.workload.jobs import JobTable


def table(submit: list[float], run: list[float], size: list[int], requested: list[float] | None = None
          ) -> JobTable:
    n = len(submit)
    return JobTable(
        job_id=np.arange(1, n + 1),
        submit_s=np.array(submit, float),
        work_s=np.array(run, float),
        requested_s=np.array(requested if requested is not None else run, float),
        size=np.array(size, np.int64),
        partition=np.zeros(n, np.int32),
    )


workloads = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 50), min_size=n, max_size=n),
        st.lists(st.integers(1, 30), min_size=n, max_size=n),
        st.lists(st.integers(0, 20), min_size=n, max_size=n),
        st.lists(st.integers(1, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
    )
)


def build(data: tuple[list[int], ...]) -> tuple[JobTable, NDArray[np.int32]]:
    submit, run, slack, size, pool = data
    jobs = table(submit, run, size, [r + s for r, s in zip(run, slack, strict=True)])
    return jobs, np.array(pool, np.int32)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(workloads, st.sampled_from(["fcfs", "easy", "conservative"]))
def test_pools_are_independent(data: tuple[list[int], ...], policy: str) -> None:
    """Pools in one run schedule exactly as if each were simulated alone."""
    jobs, pools = build(data)
    capacity = np.array([6, 8, 7], np.int64)
    together = run_schedule(jobs, pools, capacity, policy)
    for p in range(3):
        rows = np.flatnonzero(pools == p)
        if len(rows) == 0:
            continue
        alone = schedule_single_pool(jobs.take(rows), int(capacity[p]), policy)
        assert np.array_equal(together.start_s[rows], alone.start_s)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(workloads, st.sampled_from(["fcfs", "easy", "conservative"]))
def test_node_ids_are_in_the_pool_and_never_double_booked(data: tuple[list[int], ...], policy: str) -> None:
    jobs, pools = build(data)
    capacity = np.array([6, 8, 7], np.int64)
    first = np.array([0, 6, 14], np.int64)
    schedule = run_schedule(jobs, pools, capacity, policy, pool_first_node=first)
    assert schedule.node_offsets is not None and schedule.node_ids is not None
    plain = run_schedule(jobs, pools, capacity, policy)
    assert np.array_equal(schedule.start_s, plain.start_s)  # node ids do not change decisions
    busy: dict[int, list[tuple[float, float]]] = {}
    for row in range(len(jobs)):
        nodes = schedule.node_ids[schedule.node_offsets[row] : schedule.node_offsets[row + 1]]
        assert len(nodes) == jobs.size[row] == len(set(nodes.tolist()))
        p = pools[row]
        assert np.all((nodes >= first[p]) & (nodes < first[p] + capacity[p]))
        for node in nodes.tolist():
            busy.setdefault(node, []).append((schedule.start_s[row], schedule.end_s[row]))
    for spans in busy.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_lowest_free_node_ids_first() -> None:
    jobs = table([0, 0, 1, 2], [10, 5, 10, 10], [2, 2, 1, 3])
    schedule = run_schedule(jobs, np.zeros(4, np.int32), np.array([4]), "fcfs",
                            pool_first_node=np.array([100]))
    assert schedule.node_offsets is not None and schedule.node_ids is not None
    nodes = [schedule.node_ids[a:b].tolist() for a, b in zip(schedule.node_offsets[:-1],
                                                               schedule.node_offsets[1:], strict=True)]
    # job 3 waits for job 2 (t=5), takes the lowest free ids; job 4 waits until t=10
    assert nodes == [[100, 101], [102, 103], [102], [100, 101, 103]]
    assert schedule.start_s.tolist() == [0, 0, 5, 10]


@pytest.mark.parametrize("policy", ["fcfs", "easy", "conservative"])
def test_rate_change_moves_the_end_and_the_queue(policy: str) -> None:
    """Halving a running job's rate halfway doubles its remaining time; the waiting job starts later."""
    jobs = table([0, 1], [100, 10], [2, 2], [400, 10])
    engine = Engine(jobs, np.zeros(2, np.int32), np.array([2]), policy)
    assert not engine.run(until_s=50)
    engine.set_rates(np.array([0]), np.array([0.5]), now_s=50)
    assert engine.run()
    schedule = engine.schedule()
    assert schedule.end_s.tolist() == [150.0, 160.0]
    assert schedule.start_s.tolist() == [0.0, 150.0]


def test_set_rates_rejects_jobs_that_are_not_running() -> None:
    engine = Engine(table([0, 1], [100, 10], [2, 2]), np.zeros(2, np.int32), np.array([2]), "fcfs")
    engine.run(until_s=5)
    with pytest.raises(EngineInputError, match="running"):
        engine.set_rates(np.array([1]), np.array([2.0]), now_s=5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": [3]}, "more than its pool's capacity 2"),
        ({"size": [0]}, "size is not positive"),
        ({"run": [0.0]}, "work"),
        ({"requested": [5.0]}, "requested time is below its run time"),
    ],
)
def test_bad_jobs_are_named(kwargs: dict[str, list[float]], message: str) -> None:
    args: dict[str, list[float]] = {"submit": [0.0], "run": [10.0], "size": [1]}
    args.update(kwargs)
    jobs = table(args["submit"], args["run"], [int(s) for s in args["size"]], args.get("requested"))
    with pytest.raises(EngineInputError, match=message):
        schedule_single_pool(jobs, 2, "easy")


def test_unknown_policy() -> None:
    with pytest.raises(EngineInputError, match="unknown policy 'sjf'"):
        schedule_single_pool(table([0], [1], [1]), 1, "sjf")


@settings(max_examples=120, deadline=None, derandomize=True)
@given(workloads, st.sampled_from(["fcfs", "easy", "conservative"]),
       st.lists(st.tuples(st.integers(1, 60), st.sampled_from([0.25, 0.5, 2.0])), max_size=6))
def test_rate_changes_never_overcommit(
    data: tuple[list[int], ...], policy: str, changes: list[tuple[int, float]]
) -> None:
    """Slowing jobs down (even past their estimates) or speeding them up keeps every node single-booked."""
    jobs, pools = build(data)
    capacity = np.array([6, 8, 7], np.int64)
    first = np.array([0, 6, 14], np.int64)
    engine = Engine(jobs, pools, capacity, policy, pool_first_node=first)
    for at_s, rate in sorted(changes):
        if engine.run(until_s=at_s):
            break
        running = np.flatnonzero(engine.jobs.status == 2)
        if len(running):
            now = min(float(at_s), engine.next_event_s())
            engine.set_rates(running, np.full(len(running), rate), now_s=now)
    assert engine.run()
    assert np.all(engine.pools.free == capacity)
    schedule = engine.schedule()
    assert schedule.node_offsets is not None and schedule.node_ids is not None
    busy: dict[int, list[tuple[float, float]]] = {}
    for row in range(len(jobs)):
        nodes = schedule.node_ids[schedule.node_offsets[row] : schedule.node_offsets[row + 1]]
        assert len(set(nodes.tolist())) == jobs.size[row]
        for node in nodes.tolist():
            busy.setdefault(node, []).append((schedule.start_s[row], schedule.end_s[row]))
    for spans in busy.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize(
    ("rates", "now_s", "message"),
    [
        ([float("nan")], 5.0, "positive and finite"),
        ([1.0, 2.0], 5.0, "one rate per job"),
        ([2.0], 0.5, "outside"),
        ([2.0], 150.0, "outside"),
    ],
)
def test_set_rates_checks_its_inputs(rates: list[float], now_s: float, message: str) -> None:
    engine = Engine(table([0, 1], [100, 10], [2, 2]), np.zeros(2, np.int32), np.array([2]), "easy")
    engine.run(until_s=5)
    with pytest.raises(EngineInputError, match=message):
        engine.set_rates(np.array([0]), np.array(rates), now_s=now_s)
