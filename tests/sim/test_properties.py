"""Property tests on random small workloads (derandomized, so every run draws the same examples).

(a) the engine equals the reference start for start; (b)-(f) the invariants of tests.sim.checkers,
checked from the schedule alone, on the engine's output and on the reference's.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reference_sched import POLICIES
from tests.sim.checkers import Workload, check_all, check_conservative, first_difference

SETTINGS = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MORE = settings(SETTINGS, max_examples=400)  # the cheap comparison: rare cases need many examples


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    """1-60 jobs on 1-64 units; integer times in a short horizon so submits and ends tie often;
    requested >= run, often equal; ids unrelated to row order and to submit order."""
    capacity = draw(st.integers(1, 64))
    n = draw(st.integers(1, 60))
    horizon = draw(st.sampled_from([1, 3, 10, 30, 100]))
    runs = draw(st.lists(st.integers(1, 40), min_size=1, max_size=3))  # a few common durations
    sizes = draw(st.lists(st.integers(1, capacity), min_size=1, max_size=3))
    job = st.tuples(
        st.integers(0, horizon),
        st.one_of(st.sampled_from(runs), st.integers(1, 40)),
        st.one_of(st.just(0), st.integers(0, 40)),
        st.one_of(st.sampled_from(sizes), st.integers(1, max(1, capacity // 4)), st.integers(1, capacity)),
    )
    rows = draw(st.lists(job, min_size=n, max_size=n))
    ids = draw(st.permutations(range(1, n + 1)))
    return Workload(
        job_id=[7 * i for i in ids],
        submit=[float(r[0]) for r in rows],
        run=[float(r[1]) for r in rows],
        requested=[float(r[1] + r[2]) for r in rows],
        size=[r[3] for r in rows],
        capacity=capacity,
    )


def engine(wl: Workload, policy: str) -> tuple[list[float], list[float]]:
    from pmtwin.sim.engine import schedule_single_pool

    schedule = schedule_single_pool(wl.table(), wl.capacity, policy)
    return schedule.start_s.tolist(), schedule.end_s.tolist()


@pytest.mark.parametrize("policy", POLICIES)
@MORE
@given(wl=workloads())
def test_engine_equals_reference(policy: str, wl: Workload) -> None:
    got, _ = engine(wl, policy)
    want, _ = wl.reference(policy)
    assert (diff := first_difference(wl, policy, got, want)) is None, diff


@pytest.mark.parametrize("policy", POLICIES)
@SETTINGS
@given(wl=workloads())
def test_engine_invariants(policy: str, wl: Workload) -> None:
    start, end = engine(wl, policy)
    assert not (bad := check_all(wl, policy, start, end)), bad


@pytest.mark.parametrize("policy", POLICIES)
@SETTINGS
@given(wl=workloads())
def test_reference_invariants(policy: str, wl: Workload) -> None:
    start, end = wl.reference(policy)
    assert not (bad := check_all(wl, policy, start, end)), bad


@settings(SETTINGS, max_examples=100)
@given(wl=workloads(), data=st.data())
def test_conservative_checker_rejects_any_delayed_job(wl: Workload, data: st.DataObject) -> None:
    start, end = wl.reference("conservative")
    i = data.draw(st.integers(0, len(wl) - 1))
    delay = data.draw(st.integers(1, 50))
    start[i] += delay
    end[i] += delay
    assert check_conservative(wl, start, end)
