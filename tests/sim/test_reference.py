"""The reference scheduler on hand-made cases, and the checkers on deliberately wrong schedules."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.reference_sched import POLICIES, reference_starts
from tests.sim.checkers import (
    Workload,
    check_all,
    check_capacity,
    check_conservative,
    check_easy_head,
    check_fcfs_order,
    check_times,
)


def wl(rows: list[tuple[int, float, int, float, float]], capacity: int) -> Workload:
    """Rows of (id, submit, size, run, requested)."""
    ids, submit, size, run, requested = (list(col) for col in zip(*rows, strict=True))
    return Workload(ids, submit, run, requested, size, capacity)


# The doc's worked example: capacity 12, estimates exact.
WORKED = wl([(1, 0, 5, 100, 100), (2, 0, 5, 100, 100), (3, 1, 6, 10, 10), (4, 2, 2, 200, 200)], 12)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("easy", [0, 0, 100, 2]), ("fcfs", [0, 0, 100, 100]), ("conservative", [0, 0, 100, 2])],
)
def test_worked_example(policy: str, expected: list[float]) -> None:
    start, end = WORKED.reference(policy)
    assert start == expected
    assert check_all(WORKED, policy, start, end) == []


def test_rows_in_any_order_and_submits_join_in_id_order() -> None:
    # Same submit time: id 3 is ahead of id 5 whatever the row order; id 7 is submitted later.
    case = wl([(7, 1, 4, 10, 10), (5, 0, 4, 10, 10), (3, 0, 4, 10, 10)], 4)
    for policy in POLICIES:
        assert case.reference(policy)[0] == [20, 10, 0]


def test_release_before_submit_at_the_same_time() -> None:
    case = wl([(1, 0, 4, 10, 10), (2, 10, 4, 5, 5)], 4)
    for policy in POLICIES:
        assert case.reference(policy)[0] == [0, 10]


def test_fcfs_stops_at_the_first_job_that_does_not_fit() -> None:
    case = wl([(1, 0, 3, 10, 10), (2, 1, 4, 10, 10), (3, 1, 1, 9, 9)], 4)
    assert case.reference("fcfs")[0] == [0, 10, 20]
    assert case.reference("easy")[0] == [0, 10, 1]  # J3 ends by S = 10 and is backfilled


def test_easy_first_clause_leaves_extra_unchanged() -> None:
    # At t=2: free 4, head J2 (size 10) gets S = 100, extra = 4 + 8 - 10 = 2. J3 ends before S, so it
    # starts without using extra; J4 (ends after S) then fits in extra = 2.
    case = wl([(1, 0, 8, 100, 100), (2, 1, 10, 10, 10), (3, 2, 2, 50, 50), (4, 2, 2, 200, 200)], 12)
    assert case.reference("easy")[0] == [0, 100, 2, 2]


def test_easy_extra_blocks_a_long_job() -> None:
    # extra = 4 + 6 - 10 = 0: J3 ends before S and starts, J4 would end after S and must wait.
    case = wl([(1, 0, 6, 100, 100), (2, 1, 10, 10, 10), (3, 2, 2, 50, 50), (4, 2, 2, 200, 200)], 10)
    assert case.reference("easy")[0] == [0, 100, 2, 110]


def test_easy_uses_estimates_and_the_pass_time() -> None:
    # J1 is estimated to end at 100 (actually 50). J3 (requested 60) cannot end by S = 100 at t=41
    # (41 + 60 > 100) and does not fit in extra = 0; at t=50 J1 really ends and J2 starts.
    case = wl([(1, 0, 6, 50, 100), (2, 1, 10, 10, 10), (3, 41, 4, 5, 60)], 10)
    assert case.reference("easy")[0] == [0, 50, 60]
    # Submitted at 40, J3 ends by S (40 + 60 = 100) and is backfilled.
    case = wl([(1, 0, 6, 50, 100), (2, 1, 10, 10, 10), (3, 40, 4, 5, 60)], 10)
    assert case.reference("easy")[0] == [0, 50, 40]


def test_conservative_moves_reservations_earlier() -> None:
    # J2 is reserved at 100 (J1's estimate) and starts when J1 really ends at 10.
    case = wl([(1, 0, 4, 10, 100), (2, 1, 4, 5, 5), (3, 2, 1, 5, 5)], 4)
    assert case.reference("conservative")[0] == [0, 10, 15]


def test_conservative_only_protects_jobs_ahead() -> None:
    # At t=0 B (id 4) is reserved at 5. At t=1 R1 ends early, A (id 3, ahead of B) moves from 20 to 5
    # and B is pushed to 15: the rules protect the reservations of the jobs AHEAD of a job, not a
    # job's own earlier reservation. So "start <= every reservation ever given" is not an invariant.
    case = wl([(1, 0, 6, 1, 20), (2, 0, 4, 5, 5), (3, 0, 10, 10, 10), (4, 0, 4, 5, 5)], 10)
    start, end = case.reference("conservative")
    assert start == [0, 0, 5, 15]
    assert check_conservative(case, start, end) == []


def test_reference_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        reference_starts([1], [0], [5], [4], [1], 4, "easy")  # requested < run
    with pytest.raises(ValueError):
        reference_starts([1], [0], [5], [5], [5], 4, "easy")  # larger than the pool
    with pytest.raises(ValueError):
        reference_starts([1], [0], [5], [5], [1], 4, "sjf")


# -- the checkers reject wrong schedules ---------------------------------------------------------


def ends(case: Workload, start: Sequence[float]) -> list[float]:
    return [s + r for s, r in zip(start, case.run, strict=True)]


def test_check_times_rejects() -> None:
    assert check_times(WORKED, [0, 0, 0.5, 2], ends(WORKED, [0, 0, 0.5, 2]))  # before submit
    assert check_times(WORKED, [0, 0, 100, 2], [100, 100, 111, 202])  # wrong end


def test_check_capacity_rejects_an_overcommitted_instant() -> None:
    start = [0, 0, 99, 2]  # J3 overlaps J1 and J2 on [99, 100)
    assert check_capacity(WORKED, start, ends(WORKED, start))
    start = [0, 0, 100, 2]
    assert check_capacity(WORKED, start, ends(WORKED, start)) == []  # release at 100 comes first


def test_check_fcfs_order_rejects_a_backfilled_job() -> None:
    assert check_fcfs_order(WORKED, [0, 0, 100, 2])
    assert check_fcfs_order(WORKED, [0, 0, 100, 100]) == []


# Greedy backfilling: J3 jumps ahead and delays the head J2 past S = 100 (extra = 5 + 5 - 10 = 0).
GREEDY = wl([(1, 0, 5, 100, 100), (2, 1, 10, 10, 10), (3, 2, 5, 200, 200)], 10)


def test_check_easy_head_rejects() -> None:
    start = [0, 202, 2]
    assert check_easy_head(GREEDY, start, ends(GREEDY, start))
    start = [0, 0, 150, 2]  # J3 started late in the worked example
    assert check_easy_head(WORKED, start, ends(WORKED, start))
    start = [0, 100, 110]
    assert check_easy_head(GREEDY, start, ends(GREEDY, start)) == []


def test_check_conservative_rejects() -> None:
    start = [0, 202, 2]  # a job that delays the reservation of one ahead
    assert check_conservative(GREEDY, start, ends(GREEDY, start))
    start = [0, 0, 100, 3]  # J4 reserved at 2 but started late
    assert check_conservative(WORKED, start, ends(WORKED, start))
    start = [0, 0, 101, 2]  # the head started after its reservation
    assert check_conservative(WORKED, start, ends(WORKED, start))
    start = [0, 100, 110]
    assert check_conservative(GREEDY, start, ends(GREEDY, start)) == []
