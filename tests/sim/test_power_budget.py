"""The system power budget of docs/power.md 4a: an independent reference (tests.sim.power_reference),
hand-computed cases, and the engine (``run_schedule(..., power_mw=..., power_budget_mw=...)``) checked
against both.

- Without a budget the reference must equal today's engine on random multi-pool workloads.
- With a budget: hand cases (expected starts worked out by hand from the text), engine == reference
  on random workloads, the budget invariant read from the engine's output alone, and input errors.

Hand-case rows are (id, submit, size, run, requested, pool, power_mw); times in seconds, power in mW.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmtwin.sim.engine import EngineInputError, run_schedule
from pmtwin.workload.jobs import JobTable
from tests.sim.power_reference import POLICIES, power_reference_starts

SETTINGS = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MORE = settings(SETTINGS, max_examples=300)

Row = tuple[int, float, int, float, float, int, int]


@dataclass(frozen=True)
class PowerWorkload:
    """Jobs over several pools and one power budget (None: no budget)."""

    job_id: list[int]
    submit: list[float]
    run: list[float]
    requested: list[float]
    size: list[int]
    pool: list[int]
    power: list[int]
    capacity: list[int]
    budget: int | None

    @staticmethod
    def of(rows: list[Row], capacity: list[int], budget: int | None) -> PowerWorkload:
        ids, submit, size, run, requested, pool, power = (list(col) for col in zip(*rows, strict=True))
        return PowerWorkload(ids, submit, run, requested, size, pool, power, capacity, budget)

    def __len__(self) -> int:
        return len(self.job_id)

    def table(self) -> JobTable:
        return JobTable(
            job_id=np.array(self.job_id, np.int64),
            submit_s=np.array(self.submit, np.float64),
            work_s=np.array(self.run, np.float64),
            requested_s=np.array(self.requested, np.float64),
            size=np.array(self.size, np.int64),
            partition=np.zeros(len(self), np.int32),
        )

    def reference(self, policy: str, budget: int | None = None) -> list[float]:
        return power_reference_starts(
            self.job_id, self.submit, self.run, self.requested, self.size, self.pool, self.power,
            self.capacity, policy, budget,
        )  # fmt: skip

    def engine(self, policy: str, *, with_budget: bool) -> tuple[list[float], list[float]]:
        """(start, end) of every row from ``run_schedule``, with or without the power arguments."""
        pools = np.array(self.pool, np.int32)
        capacity = np.array(self.capacity, np.int64)
        if with_budget:
            schedule = run_schedule(
                self.table(), pools, capacity, policy,
                power_mw=np.array(self.power, np.int64), power_budget_mw=self.budget,
            )  # fmt: skip
        else:
            schedule = run_schedule(self.table(), pools, capacity, policy)
        return schedule.start_s.tolist(), schedule.end_s.tolist()

    def describe(self, i: int) -> str:
        return (
            f"job {self.job_id[i]} (submit {self.submit[i]:g}, pool {self.pool[i]}, size {self.size[i]}, "
            f"run {self.run[i]:g}, requested {self.requested[i]:g}, power {self.power[i]})"
        )


def first_difference(wl: PowerWorkload, got: list[float], want: list[float]) -> str | None:
    order = sorted(range(len(wl)), key=lambda i: (wl.submit[i], wl.job_id[i]))
    diffs = [i for i in order if got[i] != want[i]]
    if not diffs:
        return None
    i = diffs[0]
    return (
        f"{len(diffs)} of {len(wl)} starts differ; first is {wl.describe(i)}: engine {got[i]:g}, "
        f"reference {want[i]:g} (capacities {wl.capacity}, budget {wl.budget})"
    )


def check_budget(wl: PowerWorkload, start: list[float], end: list[float]) -> list[str]:
    """From the output alone: at every start time t, the jobs running (start <= t < end) draw at most the
    budget and use at most each pool's capacity; every job starts after its submit and runs its run."""
    bad = []
    for i in range(len(wl)):
        if start[i] < wl.submit[i] or end[i] != start[i] + wl.run[i]:
            bad.append(f"{wl.describe(i)}: start {start[i]:g}, end {end[i]:g}")
    for t in sorted(set(start)):
        running = [i for i in range(len(wl)) if start[i] <= t < end[i]]
        power = sum(wl.power[i] for i in running)
        if wl.budget is not None and power > wl.budget:
            bad.append(f"t={t:g}: running jobs draw {power} mW > budget {wl.budget}")
        for p, cap in enumerate(wl.capacity):
            used = sum(wl.size[i] for i in running if wl.pool[i] == p)
            if used > cap:
                bad.append(f"t={t:g}: pool {p} uses {used} > capacity {cap}")
    return bad


# -- random workloads -------------------------------------------------------------------------------


@st.composite
def workloads(draw: st.DrawFn) -> PowerWorkload:
    """1-3 pools of 1-12 units, 1-40 jobs, integer times in a short horizon (ties are frequent),
    requested >= run; a budget of 1-100 mW and job powers in [0, budget], a few values repeated."""
    capacity = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3))
    n = draw(st.integers(1, 40))
    horizon = draw(st.sampled_from([1, 3, 10, 30]))
    budget = draw(st.integers(1, 100))
    runs = draw(st.lists(st.integers(1, 20), min_size=1, max_size=3))
    powers = draw(st.lists(st.integers(0, budget), min_size=1, max_size=3))
    job = st.tuples(
        st.integers(0, horizon),
        st.one_of(st.sampled_from(runs), st.integers(1, 20)),
        st.one_of(st.just(0), st.integers(0, 20)),
        st.integers(1, 12),
        st.integers(0, len(capacity) - 1),
        st.one_of(st.sampled_from(powers), st.integers(0, budget), st.integers(budget // 2, budget)),
    )
    rows = draw(st.lists(job, min_size=n, max_size=n))
    ids = draw(st.permutations(range(1, n + 1)))
    return PowerWorkload(
        job_id=[3 * i for i in ids],
        submit=[float(r[0]) for r in rows],
        run=[float(r[1]) for r in rows],
        requested=[float(r[1] + r[2]) for r in rows],
        size=[min(r[3], capacity[r[4]]) for r in rows],
        pool=[r[4] for r in rows],
        power=[r[5] for r in rows],
        capacity=capacity,
        budget=budget,
    )


# -- works today: no budget -----------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES)
@SETTINGS
@given(wl=workloads())
def test_reference_without_budget_equals_engine(policy: str, wl: PowerWorkload) -> None:
    got, _ = wl.engine(policy, with_budget=False)
    want = wl.reference(policy, None)
    assert (diff := first_difference(wl, got, want)) is None, diff


@pytest.mark.parametrize("policy", POLICIES)
@SETTINGS
@given(wl=workloads())
def test_reference_with_budget_keeps_the_budget(policy: str, wl: PowerWorkload) -> None:
    start = wl.reference(policy, wl.budget)
    end = [s + r for s, r in zip(start, wl.run, strict=True)]
    assert not (bad := check_budget(wl, start, end)), bad


@pytest.mark.parametrize("policy", POLICIES)
@SETTINGS
@given(wl=workloads())
def test_reference_with_an_ample_budget_is_the_canonical_schedule(policy: str, wl: PowerWorkload) -> None:
    # docs/power.md 4a: with B never binding every start is admitted (rule 5's extra passes start nothing).
    assert wl.reference(policy, sum(wl.power)) == wl.reference(policy, None)


@pytest.mark.parametrize("policy", [*POLICIES, "conservative"])
def test_reference_input_errors(policy: str) -> None:
    wl = PowerWorkload.of([(1, 0, 1, 5, 5, 0, 10), (4242, 0, 1, 5, 5, 0, 101)], [2], 100)
    with pytest.raises(ValueError, match="4242" if policy != "conservative" else "conservative"):
        wl.reference(policy, wl.budget)


# -- hand-computed cases (budget 100 mW unless said; worked from docs/power.md 4a by hand) ---------

HAND_CASES: dict[str, tuple[list[Row], list[int], dict[str, list[float]]]] = {
    # J1 (80 mW) runs on [0, 10): headroom 20. At t=1 head J2 fits in the nodes but 50 > 20: refused,
    # the FCFS pass stops (J2 is the blocker). J3 (10 mW, 10 <= 20) arrives at 2 but waits behind the
    # refused head. At t=10 J1 ends (headroom 100): J2 starts (50), then J3 (10 <= 50).
    "fcfs_head_blocked_by_power": (
        [(1, 0, 2, 10, 10, 0, 80), (2, 1, 2, 5, 5, 0, 50), (3, 2, 1, 5, 5, 0, 10)],
        [10],
        {"fcfs": [0, 10, 10]},
    ),
    # J1 (90 mW, est end 20) leaves headroom 10. At t=1 head J2 (size 6, 50 mW) fits in the 8 free
    # nodes but is refused: its shadow time is now, extra nodes = 8 - 6 = 2 (its 6 nodes are held).
    # J3 (size 3) is not proposed: 1+5 > S=1 and 3 > extra 2, although its power would pass
    # (T=20: 10 + 90 >= 50; 1+5 <= 20). J4 (size 2 <= extra 2) is proposed: 5 <= headroom 10, ends at
    # 101 > T but 5 <= E = 10 + 90 - 50 = 50: starts at 1. At t=20 J1 ends: J2 starts (50 <= 95);
    # J3 (size 3) no longer fits (free 2): S = 30 (J2's end); at t=30 J3 starts.
    # FCFS: J2 stops the pass until 20; then J2 and J3 start (free 4, 5 <= 50); J4 (size 2 > free 1)
    # starts when J3 ends at 25.
    "easy_head_held_by_power_holds_its_nodes": (
        [
            (1, 0, 2, 20, 20, 0, 90),
            (2, 1, 6, 10, 10, 0, 50),
            (3, 1, 3, 5, 5, 0, 5),
            (4, 1, 2, 100, 100, 0, 5),
        ],
        [10],
        {"easy": [0, 20, 30, 1], "fcfs": [0, 20, 20, 25]},
    ),
    # J1 (60 mW, est end 10): headroom 40. J2 (98) is refused at t=1 and is the blocker: T = 10
    # (40 + 60 >= 98), E = 100 - 98 = 2. At t=2, J3 (35 <= 40) ends at 2+8 = 10 <= T: backfilled, E
    # unchanged. J4 (3 <= headroom 5) ends at 11 > T and 3 > E = 2: refused (no new blocker, 3 <= 5).
    # At t=10 J1 and J3 end: J2 starts (98), J4 is refused (3 > 2) and becomes the blocker; J2 ends at 20
    # and J4 starts. FCFS: J3 waits behind J2; at 10 it is refused (35 > 2); both start at 20.
    "easy_backfill_ends_by_power_shadow": (
        [(1, 0, 2, 10, 10, 0, 60), (2, 1, 2, 10, 10, 0, 98), (3, 2, 1, 8, 8, 0, 35), (4, 2, 1, 9, 9, 0, 3)],
        [10],
        {"easy": [0, 10, 2, 20], "fcfs": [0, 10, 20, 20]},
    ),
    # J1 (60 mW, est end 50): headroom 40. J2 (70) is refused at t=1: T = 50, E = 40 + 60 - 70 = 30.
    # At t=2 (nodes: S = now, extra = 8 - 2 = 6): J3 (20, ends at 102 > T) is admitted under E:
    # E := 10 (recomputed: headroom 20 + 60 - 70 = 10). J4 (15 <= headroom 20, ends after T) is
    # refused: 15 > E = 10. At t=50 J1 ends: J2 starts (70 <= 80), J4 refused (15 > 10, blocker);
    # at t=60 J2 ends and J4 starts.
    "easy_extra_power_used_up": (
        [
            (1, 0, 2, 50, 50, 0, 60),
            (2, 1, 2, 10, 10, 0, 70),
            (3, 2, 1, 100, 100, 0, 20),
            (4, 2, 1, 100, 100, 0, 15),
        ],
        [10],
        {"easy": [0, 50, 2, 60]},
    ),
    # Two pools of 4. J1 (pool 0, 60 mW, est end 10): headroom 40. J2 (pool 0, 90) refused at t=1: the
    # blocker, T = 10, E = 40 + 60 - 90 = 10. At t=2 in pool 1, J3 (30 <= 40, ends at 22 > T, 30 > E)
    # is refused by the other pool's blocker. EASY: J3 is a refused head (S = now, extra = 3); J4
    # (30, ends at 2+8 = 10 <= T) is backfilled. At t=10 J1 and J4 end: pool 0 first, J2 starts
    # (headroom 10); pool 1: J3 refused (30 > 10). J2 ends at 20: J3 starts.
    # FCFS: J3 stops pool 1's pass at 2 and at 10; at 20 J3 and J4 start (30 + 30 <= 100).
    "blocker_in_another_pool_holds_a_later_job": (
        [
            (1, 0, 1, 10, 10, 0, 60),
            (2, 1, 1, 10, 10, 0, 90),
            (3, 2, 1, 20, 20, 1, 30),
            (4, 2, 1, 8, 8, 1, 30),
        ],
        [4, 4],
        {"easy": [0, 10, 20, 2], "fcfs": [0, 10, 20, 20]},
    ),
    # Pools of 2 and 4. J1 (pool 0, 10 mW) and J2 (pool 1, 50 mW, est end 30) start at 0: headroom 40.
    # J3 (pool 0, submit 1) waits for nodes. J4 (pool 1, 60) is refused at t=2: the blocker. At t=10 J1
    # ends (headroom 50) and J3 (45 <= 50) is proposed: it comes before J4 in queue order (submit 1 < 2),
    # so it is admitted freely, though under J4's reservation (T = 30, E = 50 + 50 - 60 = 40) it would be
    # refused (10+100 > 30, 45 > 40). J4 is refused at 10 (60 > 5) and at 30 (60 > 55); J3 ends at 110.
    "job_before_the_blocker_is_admitted_freely": (
        [
            (1, 0, 2, 10, 10, 0, 10),
            (2, 0, 1, 30, 30, 1, 50),
            (3, 1, 2, 100, 100, 0, 45),
            (4, 2, 1, 20, 20, 1, 60),
        ],
        [2, 4],
        {"fcfs": [0, 0, 10, 110], "easy": [0, 0, 10, 110]},
    ),
    # The same with J3 submitted at 3, after the blocker J4. At t=10 J3 is refused by the reservation
    # (T = 30, E = 40, as computed above). At t=30 J2 ends (headroom 100) and pool 0 is visited first:
    # the blocker J4 has not started yet, so J3 is still held: headroom 100 >= 60 gives T = now = 30
    # and E = 100 - 60 = 40 < 45 (our reading of rule 3 when the headroom already covers the blocker,
    # like rule 4's "shadow time is now"). Pool 1: J4 starts at 30 (headroom 40). J4 ends at 50: J3
    # starts.
    "job_after_the_blocker_is_held_until_the_blocker_starts": (
        [
            (1, 0, 2, 10, 10, 0, 10),
            (2, 0, 1, 30, 30, 1, 50),
            (3, 3, 2, 100, 100, 0, 45),
            (4, 2, 1, 20, 20, 1, 60),
        ],
        [2, 4],
        {"fcfs": [0, 0, 50, 30], "easy": [0, 0, 50, 30]},
    ),
    # Rule 2: an earlier refused job replaces the blocker. J1 (pool 0, 10 mW, ends 5) and J2 (pool 1,
    # 60 mW, est end 50) start at 0: headroom 30. J3 (pool 0, submit 1) waits for nodes. J4 (pool 1,
    # 35 > 30) is refused at t=2: blocker J4. At t=5 J1 ends (headroom 40): J3 (95 > 40) is refused and,
    # being earlier than J4, becomes the blocker: T = 50 (40 + 60 >= 95), E = 5. Pool 1: J4 (35 <= 40)
    # now comes after the blocker, ends at 105 > T and 35 > E: refused. At t=50 J2 ends: J3 starts
    # (95), J4 refused (35 > 5); J3 ends at 60 and J4 starts.
    "earlier_refused_job_replaces_the_blocker": (
        [
            (1, 0, 2, 5, 5, 0, 10),
            (2, 0, 1, 50, 50, 1, 60),
            (3, 1, 2, 10, 10, 0, 95),
            (4, 2, 1, 100, 100, 1, 35),
        ],
        [2, 4],
        {"fcfs": [0, 0, 50, 60], "easy": [0, 0, 50, 60]},
    ),
    # J1 (pool 0, 80 mW) runs on [0, 10): J2 (pool 1, 50 > 20) is refused at t=1. At t=10 J1 ends in
    # pool 0; nothing happens in pool 1, but with a budget every pool with queued jobs gets a pass
    # (rule 5): J2 starts at 10.
    "power_freed_in_another_pool_gives_a_pass": (
        [(1, 0, 1, 10, 10, 0, 80), (2, 1, 1, 5, 5, 1, 50)],
        [4, 4],
        {"fcfs": [0, 10], "easy": [0, 10]},
    ),
}

HAND_PARAMS = [
    pytest.param(name, policy, id=f"{name}-{policy}")
    for name, (_, _, expected) in HAND_CASES.items()
    for policy in expected
]


def hand_case(name: str) -> PowerWorkload:
    rows, capacity, _ = HAND_CASES[name]
    return PowerWorkload.of(rows, capacity, 100)


@pytest.mark.parametrize(("name", "policy"), HAND_PARAMS)
def test_hand_case_reference(name: str, policy: str) -> None:
    wl = hand_case(name)
    assert wl.reference(policy, wl.budget) == HAND_CASES[name][2][policy]


# -- the engine with a budget (needs power_mw / power_budget_mw in run_schedule) ------------------


@pytest.mark.parametrize(("name", "policy"), HAND_PARAMS)
def test_hand_case_engine(name: str, policy: str) -> None:
    wl = hand_case(name)
    start, end = wl.engine(policy, with_budget=True)
    assert start == HAND_CASES[name][2][policy]
    assert not (bad := check_budget(wl, start, end)), bad


@pytest.mark.parametrize("policy", POLICIES)
@MORE
@given(wl=workloads())
def test_engine_with_budget_equals_reference(policy: str, wl: PowerWorkload) -> None:
    got, _ = wl.engine(policy, with_budget=True)
    want = wl.reference(policy, wl.budget)
    assert (diff := first_difference(wl, got, want)) is None, diff


@pytest.mark.parametrize("policy", POLICIES)
@SETTINGS
@given(wl=workloads())
def test_engine_keeps_the_budget(policy: str, wl: PowerWorkload) -> None:
    start, end = wl.engine(policy, with_budget=True)
    assert not (bad := check_budget(wl, start, end)), bad


def test_engine_refuses_conservative_with_a_budget() -> None:
    wl = PowerWorkload.of([(1, 0, 1, 5, 5, 0, 10)], [2], 100)
    with pytest.raises(EngineInputError):
        wl.engine("conservative", with_budget=True)


@pytest.mark.parametrize("policy", POLICIES)
def test_engine_refuses_a_job_above_the_budget(policy: str) -> None:
    # docs/power.md 4a rule 6: the error names the job.
    wl = PowerWorkload.of([(1, 0, 1, 5, 5, 0, 10), (4242, 0, 1, 5, 5, 0, 101)], [2], 100)
    with pytest.raises(EngineInputError, match="4242"):
        wl.engine(policy, with_budget=True)
